/**
 * Threat analysis (R-ATP, R-DATA-7 … 10): the file-verdict service with its storage, lists and
 * settings, the privacy notice and messages in English and Dutch. The pure engines live in
 * `files/` (file verdicts) and `tls/` (TLS fingerprints); other modules import only from here
 * (the e-mail engine calls `ThreatServices.files.scanBuffer`, the TLS engine reads
 * `settings.get(orgId)` and `lists.intel(orgId)`).
 */
import type { Core, RetentionService } from '../privacy/index.ts';
import { ThreatListService } from './lists.ts';
import { ThreatFileService } from './service.ts';
import { ThreatSettingsService } from './settings.ts';
import { ThreatYaraRuleService } from './yara-rules.ts';
import { threatSubjectHandler } from './subject-data.ts';
import { registerThreatGovernance } from './governance.ts';

export * from './lists.ts';
export * from './messages.ts';
export * from './notice.ts';
export * from './service.ts';
export * from './settings.ts';
export { ThreatYaraRuleService, type YaraRule } from './yara-rules.ts';
export type { FileCategory, FileType, FileVerdict, Reason, VerdictState } from './files/index.ts';

/** The threat services of one app. */
export interface ThreatServices {
  files: ThreatFileService;
  lists: ThreatListService;
  settings: ThreatSettingsService;
  yara: ThreatYaraRuleService;
}

/** Wire the threat services and register their retention purgers (threat_metadata, threat_files), their data-subject request handler (R-PRIV-4), and their exporters and processing activities (R-PRIV-3, GDPR Art. 30; TLS and e-mail included). */
export function createThreatServices(core: Core, retention: RetentionService): ThreatServices {
  const lists = new ThreatListService(core);
  const settings = new ThreatSettingsService(core);
  const yara = new ThreatYaraRuleService(core);
  core.subjects.register(threatSubjectHandler(core));
  registerThreatGovernance(core);
  return { lists, settings, yara, files: new ThreatFileService(core, lists, settings, retention, yara) };
}
