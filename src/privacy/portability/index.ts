/**
 * Portability and records (R-PRIV-3, GDPR Art. 30): the registries modules contribute to (an
 * exporter per table, processing activities), the streamed org export (a ZIP of JSON lines with a
 * manifest of counts and SHA-256) and the records of processing (JSON and Markdown).
 */
export { ExportRegistry, tableExporter, type ExportContext, type ExportKeys, type OrgExporter, type TableExporterSpec } from './registry.ts';
export { ProcessingRegistry, LEGAL_BASES, hostOf, type ActivityState, type LegalBasis, type ProcessingActivity, type Recipient } from './activities.ts';
export { ZipStreamWriter, readZip, type ZipEntryResult } from './zip-stream.ts';
