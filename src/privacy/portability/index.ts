/**
 * Portability and records (R-PRIV-3, GDPR Art. 30): the registries modules contribute to (an
 * exporter per table, processing activities), the streamed org export (a ZIP of JSON lines with a
 * manifest of counts and SHA-256) and the records of processing (JSON and Markdown).
 */
import type { Core } from '../core.ts';
import { registerCoreRecords } from './core-records.ts';
import { PortabilityService } from './export.ts';
import { RopaService } from './ropa.ts';

export { ExportRegistry, tableExporter, type ExportContext, type ExportKeys, type OrgExporter, type TableExporterSpec } from './registry.ts';
export { ProcessingRegistry, LEGAL_BASES, hostOf, type ActivityState, type LegalBasis, type ProcessingActivity, type Recipient } from './activities.ts';
export { ZipStreamWriter, readZip, type ZipEntryResult } from './zip-stream.ts';
export { PortabilityService, EXPORT_FORMAT, EXPORT_PAGE_ROWS, MAX_RUNNING as MAX_RUNNING_EXPORTS, NOT_EXPORTED, type ExportCoverage, type ExportJob, type ExportManifest, type ManifestFile } from './export.ts';
export { RopaService, ROPA_FORMAT, ropaMarkdown, type ActivityRecord, type ControllerDetails, type RecordsOfProcessing, type RetentionLine } from './ropa.ts';
export { smtpRecipient } from './core-records.ts';

export interface PortabilityServices {
  /** The org export (R-PRIV-3). */
  exports: PortabilityService;
  /** Records of processing (GDPR Art. 30). */
  ropa: RopaService;
}

/**
 * Wire the export and the records of processing, and register the privacy core's own exporters
 * and processing activities (domain modules register theirs in their wiring).
 * @example const portability = createPortabilityServices(core);
 */
export function createPortabilityServices(core: Core): PortabilityServices {
  registerCoreRecords(core);
  return { exports: new PortabilityService(core), ropa: new RopaService(core) };
}
