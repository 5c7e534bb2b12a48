/**
 * Shapes shared by the file-verdict core: what a file is (R-ATP-1, R-ATP-2), the limits that keep
 * analysis bounded, the reasons each analyser gives, and the verdict with its threat score
 * (R-ATP-6).
 *
 * Data classes: the bytes under analysis are R-DATA-7 (kept only while analysed, never stored
 * here). The caller's file name is R-DATA-8 metadata: it is used for the extension rule and is
 * never echoed into a verdict. Reason paths may carry names of entries inside an archive, which
 * are file content (R-DATA-7) and share the verdict's retention.
 */

/** Broad category, as ATP Cloud groups files. `executable` is R-ATP-1; the rest are R-ATP-2. */
export type FileCategory = 'executable' | 'document' | 'archive' | 'script' | 'email' | 'image' | 'other';

/** The result of content-based classification. */
export interface FileType {
  /** MIME-ish type, close to libmagic's where one exists (`application/vnd.microsoft.portable-executable`). */
  mime: string;
  category: FileCategory;
  /** Short stable token: `pe`, `elf`, `macho-fat`, `eicar`, `doc`, `docx`, `zip`, `js`, `text`, ... */
  subtype: string;
  /** One line for a person: `PE32+ executable (DLL), x86-64, .NET`. */
  description: string;
  /** `content` when magic bytes or structure decided; `name` when only the extension rule did. */
  basis: 'content' | 'name';
  /** Facts found on the way (bits, machine, dll, dotnet, encrypted, macros, ...). */
  details: Record<string, string | number | boolean>;
}

/** Bounds on one analysis. All sizes are bytes; `DEFAULT_FILE_LIMITS` holds the defaults. */
export interface FileLimits {
  /** Files larger than this are not scanned (verdict `unknown`). Default 32 MiB. */
  maxFileBytes: number;
  /** Container nesting depth that is still opened (the file itself is depth 0). Default 4. */
  maxDepth: number;
  /** Decompressed bytes across the whole analysis (archives, PDF streams, VBA). Default 128 MiB. */
  maxTotalUncompressedBytes: number;
  /** Largest single decompressed entry. Default 32 MiB. */
  maxEntryBytes: number;
  /** Expansion ratio an entry may not exceed once it is larger than `ratioMinBytes`. Default 100. */
  maxEntryRatio: number;
  /** Entries below this size are not held to the ratio. Default 10 MiB. */
  ratioMinBytes: number;
  /** Archive entries visited across the whole analysis. Default 10 000. */
  maxEntries: number;
  /** Wall-clock budget for the static stage in milliseconds. Default 20 000. */
  maxAnalysisMs: number;
}

export const DEFAULT_FILE_LIMITS: Readonly<FileLimits> = Object.freeze({
  maxFileBytes: 32 * 1024 * 1024,
  maxDepth: 4,
  maxTotalUncompressedBytes: 128 * 1024 * 1024,
  maxEntryBytes: 32 * 1024 * 1024,
  maxEntryRatio: 100,
  ratioMinBytes: 10 * 1024 * 1024,
  maxEntries: 10_000,
  maxAnalysisMs: 20_000,
});

/** Which part of the pipeline produced a reason. */
export type AnalyzerName =
  | 'lists'
  | 'limits'
  | 'classify'
  | 'yara'
  | 'clamav'
  | 'pe'
  | 'elf'
  | 'office'
  | 'pdf'
  | 'rtf'
  | 'archive'
  | 'image';

/** One finding. Scores are contributions on the 0-10 scale; 0 means "worth knowing, not a threat". */
export interface Reason {
  analyzer: AnalyzerName;
  /** Stable UPPER_SNAKE code (`PE_PACKER`, `ARCHIVE_ENCRYPTED`, `YARA_EICAR`). */
  code: string;
  message: string;
  score: number;
  /** Where inside the file: `inner.zip::word/vbaProject.bin::VBA/Module1`. Absent for the file itself. */
  path?: string;
  /** True when this reason says part of the file could not be inspected. */
  incomplete?: boolean;
  /** True when this reason alone settles the verdict (block list, known signature). */
  certain?: boolean;
}

/** The outcome a customer acts on (R-ATP-6). */
export type VerdictState = 'clean' | 'suspicious' | 'malicious' | 'unknown';

/** What each pipeline stage did, for operators and for the "why" in the dashboard. */
export interface StageReport {
  analyzer: 'lists' | 'yara' | 'clamav' | 'static';
  status: 'ran' | 'skipped' | 'failed';
  note?: string;
  durationMs: number;
}

/** The verdict on one file. */
export interface FileVerdict {
  sha256: string;
  sizeBytes: number;
  type: FileType;
  /** 0-10, one decimal; 7 or more is a recommended block. */
  score: number;
  state: VerdictState;
  recommendedAction: 'allow' | 'block';
  /** False when any part could not be inspected (too large, encrypted, unparsable, limits). */
  complete: boolean;
  reasons: Reason[];
  stages: StageReport[];
  durationMs: number;
}
