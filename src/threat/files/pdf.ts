/**
 * The static PDF analyser: counts the names that make a PDF act on its own (/JavaScript, /JS,
 * /OpenAction, /AA, /Launch, /EmbeddedFile, /AcroForm, /XFA, /RichMedia, /SubmitForm), also inside
 * FlateDecode streams (object streams hide dictionaries there), and undoes `#xx` name escapes used
 * to dodge naive scanners. Decompression is charged to the shared budget and capped per stream.
 */
import { inflateSync, constants as zc } from 'node:zlib';
import { asBuffer } from './bytes.ts';
import type { Reason } from './types.ts';

const WATCHED = ['JavaScript', 'JS', 'OpenAction', 'AA', 'Launch', 'EmbeddedFile', 'EmbeddedFiles', 'AcroForm', 'XFA', 'RichMedia', 'SubmitForm', 'ImportData', 'GoToR', 'GoToE', 'URI', 'ObjStm', 'Encrypt'] as const;
type Watched = (typeof WATCHED)[number];
const WATCHED_SET = new Set<string>(WATCHED);

export interface PdfFacts {
  version: string;
  objects: number;
  counts: Record<Watched, number>;
  /** Names written with `#xx` escapes that decode to a watched name (e.g. `/J#61vaScript`). */
  obfuscatedNames: string[];
  streams: { total: number; flate: number; inflated: number; failed: number; skipped: number };
  inflatedBytes: number;
  encrypted: boolean;
  /** The stream budget ran out before every stream was looked at. */
  budgetExhausted: boolean;
}

const NAME_RE = /\/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2})+)/g;

function countNames(text: string, facts: PdfFacts): void {
  for (const m of text.matchAll(NAME_RE)) {
    let n = m[1] as string;
    if (n.includes('#')) {
      const decoded = n.replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      if (WATCHED_SET.has(decoded) && facts.obfuscatedNames.length < 20) facts.obfuscatedNames.push(`/${n}`);
      n = decoded;
    }
    if (WATCHED_SET.has(n)) facts.counts[n as Watched]++;
  }
}

/**
 * Scans a PDF. `budget.remaining` is the decompression allowance in bytes shared with the rest of
 * the analysis; at most `maxStreams` streams are inflated.
 *
 * @example scanPdf(bytes, { remaining: 64 << 20 }).counts.JavaScript // 0
 */
export function scanPdf(bytes: Uint8Array, budget: { remaining: number }, opts: { maxStreams?: number; maxStreamBytes?: number } = {}): PdfFacts {
  const buf = asBuffer(bytes);
  const text = buf.toString('latin1');
  const maxStreams = opts.maxStreams ?? 5000;
  const maxStreamBytes = opts.maxStreamBytes ?? 8 * 1024 * 1024;
  const counts = Object.fromEntries(WATCHED.map((k) => [k, 0])) as Record<Watched, number>;
  const facts: PdfFacts = {
    version: /%PDF-(\d\.\d)/.exec(text.slice(0, 1024))?.[1] ?? '?',
    objects: 0,
    counts,
    obfuscatedNames: [],
    streams: { total: 0, flate: 0, inflated: 0, failed: 0, skipped: 0 },
    inflatedBytes: 0,
    encrypted: false,
    budgetExhausted: false,
  };
  // Bounded digit runs and a look-behind keep this linear on hostile digit floods.
  facts.objects = (text.match(/(?<!\d)\d{1,10}\s+\d{1,5}\s+obj\b/g) ?? []).length;
  countNames(text, facts);
  facts.encrypted = counts.Encrypt > 0;
  const streamRe = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = streamRe.exec(text)) !== null) {
    if (m.index > 0 && /[a-z]/i.test(text[m.index - 1] as string)) continue; // "endstream"
    facts.streams.total++;
    const dataStart = m.index + m[0].length;
    const window = text.slice(Math.max(0, m.index - 4096), m.index);
    const dict = window.slice(Math.max(0, window.lastIndexOf('obj')));
    const lenMatch = /\/Length\s+(\d+)\b(?!\s+\d+\s+R)/.exec(dict);
    let end = lenMatch ? dataStart + Number(lenMatch[1]) : -1;
    if (end < dataStart || end > text.length || !/^\s*endstream/.test(text.slice(end, end + 32))) {
      end = text.indexOf('endstream', dataStart);
      if (end < 0) end = text.length;
    }
    streamRe.lastIndex = Math.max(streamRe.lastIndex, end);
    const filters = /\/Filter\s*(\[[^\]]*\]|\/\w+)/.exec(dict)?.[1] ?? '';
    if (!/^\[?\s*\/(FlateDecode|Fl)\b/.test(filters)) continue;
    facts.streams.flate++;
    if (/\/Subtype\s*\/Image\b/.test(dict)) {
      facts.streams.skipped++;
      continue;
    }
    if (facts.streams.inflated >= maxStreams || budget.remaining <= 0) {
      facts.budgetExhausted = true;
      facts.streams.skipped++;
      continue;
    }
    const cap = Math.max(1, Math.min(maxStreamBytes, budget.remaining));
    let out: Buffer;
    try {
      out = inflateSync(buf.subarray(dataStart, end), { maxOutputLength: cap, finishFlush: zc.Z_SYNC_FLUSH });
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        facts.budgetExhausted = true;
        budget.remaining -= cap;
      }
      facts.streams.failed++;
      continue;
    }
    facts.streams.inflated++;
    facts.inflatedBytes += out.length;
    budget.remaining -= out.length;
    countNames(out.toString('latin1'), facts);
  }
  return facts;
}

/**
 * Turns PDF facts into reasons. JavaScript alone is common in forms; JavaScript that runs on open,
 * or a /Launch action, is what droppers use.
 *
 * @example analyzePdf(scanPdf(bytes, budget)).some((r) => r.code === 'PDF_AUTO_JAVASCRIPT')
 */
export function analyzePdf(f: PdfFacts): Reason[] {
  const out: Reason[] = [];
  const add = (code: string, score: number, message: string, incomplete = false): void => {
    out.push({ analyzer: 'pdf', code, score, message, ...(incomplete ? { incomplete } : {}) });
  };
  const c = f.counts;
  const js = c.JavaScript + c.JS;
  const auto = c.OpenAction + c.AA;
  if (js > 0 && auto > 0) add('PDF_AUTO_JAVASCRIPT', 6, `JavaScript (${js}) together with an automatic action (/OpenAction or /AA: ${auto}).`);
  else if (js > 0) add('PDF_JAVASCRIPT', 3, `Contains JavaScript (${js} /JavaScript or /JS names).`);
  else if (auto > 0) add('PDF_AUTO_ACTION', 0, `Has automatic actions (/OpenAction or /AA: ${auto}) without JavaScript.`);
  const embedded = c.EmbeddedFile + c.EmbeddedFiles;
  if (c.Launch > 0) add('PDF_LAUNCH', embedded > 0 ? 8 : 6, `Has a /Launch action${embedded > 0 ? ' and embedded files' : ''}: it can start a program.`);
  if (embedded > 0) add('PDF_EMBEDDED_FILE', 2, `Carries embedded files (${embedded}).`);
  if (c.AcroForm > 0) add('PDF_ACROFORM', 0, 'Has an interactive form (/AcroForm).');
  if (c.XFA > 0) add('PDF_XFA', 2, 'Has an XFA form (scriptable).');
  if (c.RichMedia > 0) add('PDF_RICHMEDIA', 2, 'Has /RichMedia (embedded Flash or media).');
  if (c.SubmitForm + c.ImportData + c.GoToR + c.GoToE > 0) add('PDF_REMOTE_ACTION', 1, 'Has actions that submit, import or open remote content.');
  if (f.obfuscatedNames.length > 0) add('PDF_OBFUSCATED_NAMES', 4, `Watched names written with #xx escapes: ${f.obfuscatedNames.slice(0, 5).join(', ')}.`);
  if (f.encrypted) add('PDF_ENCRYPTED', 1, 'Could not inspect: the PDF is encrypted, its streams were not read.', true);
  if (f.budgetExhausted) add('PDF_STREAM_BUDGET', 1, 'Could not inspect every stream: the decompression budget ran out.', true);
  if (f.objects === 0) add('PDF_UNPARSABLE', 2, 'Could not parse: no PDF objects found.', true);
  return out;
}
