/**
 * Threat analysis of files (R-ATP-1, R-ATP-2, R-ATP-6, R-ATP-7): content-based classification,
 * the verdict pipeline (lists → YARA-X → ClamAV → static analysis) and the parsers behind it.
 * Other modules import only from here.
 */
export type { AnalyzerName, FileCategory, FileLimits, FileType, FileVerdict, Reason, StageReport, VerdictState } from './types.ts';
export { DEFAULT_FILE_LIMITS } from './types.ts';
export { analyzeFile, type AnalyzeOptions } from './analyze.ts';
export { classifyFile, isEicar, EICAR, EXECUTABLE_EXTENSIONS } from './classify.ts';
export { staticAnalysis, resolveLimits, type StaticOptions, type ChildScanner } from './inspect.ts';
export { decide, combineScores, BLOCK_AT, SUSPICIOUS_AT, UNKNOWN_FLOOR } from './verdict.ts';
export { bundledRules, orgRules, validateOrgRules, yaraReasons, bundledRulesDir, type YaraRules, type YaraHit } from './yara.ts';
export { clamdScan, clamdPing, clamdVersion, parseClamdReply, type ClamdTarget, type ClamdResult } from './clamd.ts';
export { parsePe, analyzePe, type PeInfo, type PeSection, type PeImport } from './pe.ts';
export { parseElf, analyzeElf, parseMachoHeader, type ElfInfo, type MachoInfo } from './elf.ts';
export { listZip, readZipEntry, type ZipEntry, type ZipListing } from './zip.ts';
export { openCfb, type Cfb, type CfbEntry } from './ole.ts';
export { decompressOvba, extractVba, parseVbaDir, type VbaModule, type VbaProject } from './ovba.ts';
export { scanPdf, analyzePdf, type PdfFacts } from './pdf.ts';
export { analyzeVbaSources, analyzeOle, analyzeOoxml, analyzeRtf } from './office.ts';
