/**
 * The threat-analysis privacy notice in English and Dutch (R-PRIV-5): which files, metadata, TLS
 * set-up packets and e-mail Cairn processes (R-ATP-1 … R-ATP-7, R-DATA-7 … R-DATA-10), why, who may
 * see them and for how long. It follows the structure of the ATP Cloud supplement (seed 002) and
 * its Dutch version (seed 004), but states what Cairn itself does. Retention defaults come from the
 * data-class registry, so the notice cannot drift from what the purgers enforce.
 */
import { dataClass } from '../privacy/index.ts';
import type { Lang } from './messages.ts';

export const NOTICE_VERSION = '2026-01';

export interface NoticeSection {
  id: string;
  /** The requirements this section answers (R-DATA-7, R-ATP-3, …). */
  refs: string[];
  heading: string;
  paragraphs: string[];
  items?: string[];
}

export interface ThreatNotice {
  lang: Lang;
  version: string;
  title: string;
  sections: NoticeSection[];
}

function days(id: string): number {
  return dataClass(id)?.defaultDays ?? 0;
}

/**
 * The notice in `lang`.
 * @example threatNotice('nl').title === 'Privacyverklaring dreigingsanalyse'
 */
export function threatNotice(lang: Lang): ThreatNotice {
  const meta = days('threat_metadata');
  const tls = days('tls_metadata');
  const mail = days('quarantine');
  const maxFiles = days('threat_files');
  if (lang === 'nl') {
    return {
      lang,
      version: NOTICE_VERSION,
      title: 'Privacyverklaring dreigingsanalyse',
      sections: [
        { id: 'scope', refs: ['R-PRIV-5'], heading: 'Waar deze verklaring over gaat', paragraphs: ['Cairn analyseert bestanden, het opzetten van TLS-verbindingen en e-mail om een dreigingsscore te berekenen. Uw organisatie (de verwerkingsverantwoordelijke) bepaalt welke analyses aan staan; Cairn verwerkt de gegevens in haar opdracht. Deze verklaring beschrijft welke persoonlijke gegevens daarbij verwerkt kunnen worden, waarom en hoe lang.'] },
        { id: 'executables', refs: ['R-ATP-1', 'R-DATA-7'], heading: 'Uitvoerbare bestanden', paragraphs: ['Cairn analyseert uitvoerbare bestanden, die in de vorm waarin ze worden geanalyseerd normaal geen persoonlijke gegevens bevatten: elk bestand waarvan de kop aangeeft dat het een Windows/DOS-programma (MZ/PE), een COFF- of ELF-bestand is, het EICAR-testbestand, en elk bestand waarvan de naam eindigt op .bin, .exe, .com, .elf, .prx, .ex of .ex_ en dat niet duidelijk een ander bestandstype is. Het type wordt bepaald aan de hand van de inhoud, niet van de naam.'] },
        { id: 'documents', refs: ['R-ATP-2', 'R-DATA-7'], heading: 'Documenten', paragraphs: ['Andere bestanden, zoals documenten, spreadsheets, pdf\'s en archieven, kunnen persoonlijke gegevens bevatten. Cairn verwerkt ze alleen om te bepalen of ze schadelijk zijn; de inhoud wordt niet voor iets anders gebruikt (R-PRIV-2).'] },
        {
          id: 'metadata',
          refs: ['R-DATA-8', 'R-ATP-3'],
          heading: 'Metadata',
          paragraphs: [`Bij elk ingediend bestand kan Cairn de volgende metadata verwerken. Clienthost, client-IP-adres, bestandsnaam, URL, apparaatnaam en gebruikersnaam worden versleuteld opgeslagen onder de sleutel van uw organisatie; leverancier en tijdstip staan onversleuteld. Standaard bewaartermijn: ${meta} dagen; uw organisatie kan die aanpassen.`],
          items: ['Clienthost', 'Client-IP-adres', 'Bestandsnaam', 'Gebruikersnaam, alleen als de gebruikersfirewall aan staat', 'Leverancier of maker', 'Datum/tijd van indienen', 'URL', 'Apparaatnaam'],
        },
        { id: 'tls', refs: ['R-ATP-4', 'R-DATA-9'], heading: 'TLS-verbindingsopbouw', paragraphs: [`Alleen als uw organisatie de analyse van versleuteld verkeer aanzet (standaard uit), verwerkt Cairn de pakketten waarmee een TLS-sessie wordt opgezet (ClientHello en ServerHello): het IP-adres van het systeem dat de verbinding start, het IP-adres van de bestemming, cijfers (ciphers), de gevraagde hostnaam en andere parameters. Pakketten na het opzetten van de sessie worden niet geanalyseerd en niet opgeslagen. Standaard bewaartermijn: ${tls} dagen.`] },
        { id: 'email', refs: ['R-ATP-5', 'R-DATA-10'], heading: 'E-mailgegevens', paragraphs: [`Alleen als uw organisatie quarantaine instelt (via SMTP of IMAP), bewaart Cairn van e-mail in quarantaine de afzender, ontvanger, het onderwerp, de inhoud en de bijlagen, versleuteld. Standaard bewaartermijn: ${mail} dagen.`], items: ['Afzender', 'Ontvanger', 'Onderwerp', 'Berichtinhoud', 'Bijlagen'] },
        { id: 'purpose', refs: ['R-ATP-6', 'R-PRIV-2'], heading: 'Doel van de verwerking', paragraphs: ['Cairn analyseert de bestanden, pakketten en andere gegevens hierboven om een dreigingsscore van 0 tot 10 te berekenen (7 of hoger: blokkeren aanbevolen), waarmee uw organisatie haar netwerk beschermt en corrigerende of preventieve maatregelen neemt. Een bestand dat niet volledig kon worden geïnspecteerd, wordt nooit als schoon gemeld.'] },
        { id: 'retention', refs: ['R-ATP-7', 'R-DATA-7'], heading: 'Bewaren', paragraphs: [`Bestanden worden alleen in het geheugen gehouden zolang de analyse duurt en daarna direct verwijderd. Alleen de hash, het type, de uitslag en de beperkte metadata hierboven blijven bewaard. Uw organisatie kan per bestandscategorie een bewaartermijn instellen; zulke bestanden worden versleuteld onder haar sleutel bewaard en automatisch verwijderd na die termijn, en hooguit na de termijn van de gegevensklasse threat_files (standaard ${maxFiles} dag).`] },
        { id: 'access', refs: ['R-SEC-3', 'R-SEC-4', 'R-SEC-5'], heading: 'Wie het kan zien', paragraphs: ['Uitslagen (hash, type, score) zijn zichtbaar voor beheerders, privacyfunctionarissen en waarnemers van uw organisatie. De persoonlijke metadata is alleen zichtbaar voor beheerders en privacyfunctionarissen, en voor ondersteuningsmedewerkers van de beheerder zolang uw organisatie daar toestemming voor geeft. Elke inzage in persoonlijke gegevens en elke wijziging wordt vastgelegd in het auditlogboek.'] },
        { id: 'rights', refs: ['R-PRIV-4'], heading: 'Uw rechten', paragraphs: ['U kunt uw organisatie vragen om inzage, correctie, verwijdering of beperking van de verwerking, en bezwaar maken. Uw organisatie beantwoordt zulke verzoeken binnen de wettelijke termijnen.'] },
      ],
    };
  }
  return {
    lang,
    version: NOTICE_VERSION,
    title: 'Threat analysis privacy notice',
    sections: [
      { id: 'scope', refs: ['R-PRIV-5'], heading: 'What this notice covers', paragraphs: ['Cairn analyses files, the set-up of TLS connections and e-mail to compute a threat score. Your organisation (the controller) decides which analyses are on; Cairn processes the data on its behalf. This notice says which personal data may be processed, why, and for how long.'] },
      { id: 'executables', refs: ['R-ATP-1', 'R-DATA-7'], heading: 'Executables', paragraphs: ['Cairn analyses executable files, which do not ordinarily contain personal information in the form they are analysed: any file whose header says it is a Windows/DOS executable (MZ/PE), a COFF or ELF file, the EICAR test file, and any file whose name ends in .bin, .exe, .com, .elf, .prx, .ex or .ex_ that is not clearly some other file type. The type is decided by content, not by name.'] },
      { id: 'documents', refs: ['R-ATP-2', 'R-DATA-7'], heading: 'Documents', paragraphs: ['Other files, such as documents, spreadsheets, PDFs and archives, may contain personal information. Cairn processes them only to decide whether they are malicious; their content is not used for anything else (R-PRIV-2).'] },
      {
        id: 'metadata',
        refs: ['R-DATA-8', 'R-ATP-3'],
        heading: 'Metadata',
        paragraphs: [`With each submitted file Cairn may process the metadata below. Client host, client IP address, file name, URL, device name and username are stored encrypted under your organisation's key; vendor and time are in clear. Default retention: ${meta} days; your organisation may change it.`],
        items: ['Client host', 'Client IP address', 'File name', 'Username, only if the user firewall is turned on', 'Vendor or creator', 'Date/time submitted', 'URL', 'Device name'],
      },
      { id: 'tls', refs: ['R-ATP-4', 'R-DATA-9'], heading: 'TLS session set-up packets', paragraphs: [`Only if your organisation turns on encrypted-traffic analysis (off by default), Cairn processes the packets that set up a TLS session (ClientHello and ServerHello): the IP address of the system that started the connection, the destination IP address, ciphers, the requested host name and other parameters. Packets exchanged after the session is established are neither analysed nor stored. Default retention: ${tls} days.`] },
      { id: 'email', refs: ['R-ATP-5', 'R-DATA-10'], heading: 'E-mail data', paragraphs: [`Only if your organisation configures quarantine (through SMTP or IMAP), Cairn keeps the sender, recipient, subject, content and attachments of quarantined mail, encrypted. Default retention: ${mail} days.`], items: ['Sender', 'Recipient', 'Subject', 'Message content', 'Attachments'] },
      { id: 'purpose', refs: ['R-ATP-6', 'R-PRIV-2'], heading: 'Purpose of processing', paragraphs: ['Cairn analyses the files, packets and other information above to compute a threat score from 0 to 10 (7 or more: block recommended) that your organisation uses to protect its network and take corrective or preventive action. A file that could not be fully inspected is never reported as clean.'] },
      { id: 'retention', refs: ['R-ATP-7', 'R-DATA-7'], heading: 'Retention', paragraphs: [`Files are held in memory only while they are analysed and discarded as soon as the analysis ends. Only the hash, the type, the verdict and the minimised metadata above remain. Your organisation may set a retention period per file category; such files are kept encrypted under its key and deleted automatically when the period ends, and at the latest after the period of the threat_files data class (default ${maxFiles} day).`] },
      { id: 'access', refs: ['R-SEC-3', 'R-SEC-4', 'R-SEC-5'], heading: 'Who can see it', paragraphs: ['Verdicts (hash, type, score) are visible to your organisation\'s administrators, privacy officers and observers. The personal metadata is visible only to administrators and privacy officers, and to the operator\'s support staff while your organisation grants them access. Every read of personal data and every change is recorded in the audit log.'] },
      { id: 'rights', refs: ['R-PRIV-4'], heading: 'Your rights', paragraphs: ['You may ask your organisation for access to, correction, deletion or restriction of this processing, and you may object to it. Your organisation answers such requests within the legal time limits.'] },
    ],
  };
}
