/**
 * What modules contribute to an org's export (R-PRIV-3): each module registers, at start-up, one
 * exporter per kind of record it stores (as it registers retention purgers), so the export reaches
 * every table without the privacy core importing any module. An exporter yields its rows a page
 * at a time, decrypted for the org; most are declared with `tableExporter` (a table of
 * `EXPORT_TABLES`, which columns to decrypt, which secrets to leave out).
 */
import { CairnError } from '../../kernel/errors.ts';
import { OrgExportRepo, type ExportRow, type ExportTable, type Executor } from '../../storage/index.ts';

/** Decryption for one org, as an exporter needs it. A value whose key was destroyed reads as null. */
export interface ExportKeys {
  /** A string encrypted with `keys.encrypt(…, field, …)`. */
  text(field: string, blob: Buffer | null): Promise<string | null>;
  /** Bytes encrypted with `keys.encryptBytes`. */
  bytes(field: string, blob: Buffer | null): Promise<Buffer | null>;
}

export interface ExportContext {
  keys: ExportKeys;
  /** Rows per page the service asks for (an exporter of large rows may ask for fewer). */
  pageRows: number;
}

/** One file of the export: `data/<id>.jsonl`, one JSON object per line. */
export interface OrgExporter {
  /** Stable id, `<module>.<what>` (`location.fixes`): the file name and the manifest key. */
  id: string;
  /** The retention data class of the rows (R-DATA), or `config` for the org's configuration. */
  dataClass: string;
  /** What the rows are, for the manifest and README (units, what was left out). */
  description: string;
  /** The tables it reads (the coverage check: every table with org data has an exporter). */
  tables: readonly ExportTable[];
  /** The org's rows, a page at a time; never more than a page in memory. */
  pages(x: Executor, orgId: string, c: ExportContext): AsyncIterable<ExportRow[]>;
}

/** The exporters of every module, in registration order (a re-registered id replaces the old one). */
export class ExportRegistry {
  private readonly exporters: OrgExporter[] = [];

  /** @example core.exporters.register(tableExporter({ id: 'devices.devices', dataClass: 'device', table: 'devices', decrypt: ['ip_enc'] })) */
  register(e: OrgExporter): void {
    if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/.test(e.id)) throw new Error(`exporter id ${e.id} must be <module>.<what>`);
    const i = this.exporters.findIndex((x) => x.id === e.id);
    if (i >= 0) this.exporters[i] = e;
    else this.exporters.push(e);
  }

  list(): readonly OrgExporter[] {
    return this.exporters;
  }
}

export interface TableExporterSpec {
  id: string;
  dataClass: string;
  description: string;
  table: ExportTable;
  /** `_enc` columns holding text under field `<table>.<column without _enc>`, exported without `_enc`. */
  decrypt?: readonly string[];
  /** `_enc` columns holding JSON text, exported parsed. */
  decryptJson?: readonly string[];
  /** `_enc` columns holding bytes, exported base64 as `<column without _enc>_base64`. */
  decryptBytes?: readonly string[];
  /** Columns never exported: secrets (password and token hashes, signing keys, API keys) and keyed lookups. */
  omit?: readonly string[];
  /** Text columns holding JSON, exported parsed. */
  json?: readonly string[];
  /** Rows per page, for tables of large rows (mail, file bodies, floor plans). */
  pageRows?: number;
  /** The field name of encrypted columns when it does not follow `<table>.<column>`. */
  fields?: Readonly<Record<string, string>>;
  /** A last change to each row (after decryption), e.g. dropping secrets inside a decrypted object. */
  map?: (row: ExportRow) => ExportRow;
}

const strip = (c: string) => c.replace(/_enc$/, '');

/** JSON text parsed; text that is not JSON stays as it is (a column documented as JSON that holds a plain value). */
function parseOrKeep(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/**
 * An exporter of one table: every column, encrypted ones decrypted, secrets left out. A `_enc`
 * column that is neither decrypted nor omitted fails the export (a new encrypted column must be
 * declared, never leaked as ciphertext or silently dropped); other binary columns are base64.
 * @example tableExporter({ id: 'devices.devices', dataClass: 'device', description: '…', table: 'devices', decrypt: ['ip_enc', 'username_enc', 'hostname_enc'] })
 */
export function tableExporter(s: TableExporterSpec): OrgExporter {
  const omit = new Set(s.omit ?? []);
  const text = new Set(s.decrypt ?? []);
  const json = new Set(s.decryptJson ?? []);
  const bytes = new Set(s.decryptBytes ?? []);
  const parse = new Set(s.json ?? []);
  const field = (c: string) => s.fields?.[c] ?? `${s.table}.${strip(c)}`;
  return {
    id: s.id,
    dataClass: s.dataClass,
    description: s.description,
    tables: [s.table],
    async *pages(x, orgId, c) {
      for await (const page of new OrgExportRepo(x).pages(s.table, orgId, s.pageRows ?? c.pageRows)) {
        const out: ExportRow[] = [];
        for (const row of page) {
          const r: ExportRow = {};
          for (const [k, v] of Object.entries(row)) {
            if (omit.has(k)) continue;
            if (text.has(k)) r[strip(k)] = await c.keys.text(field(k), v as Buffer | null);
            else if (json.has(k)) {
              const t = await c.keys.text(field(k), v as Buffer | null);
              r[strip(k)] = t === null ? null : parseOrKeep(t);
            } else if (bytes.has(k)) {
              const b = await c.keys.bytes(field(k), v as Buffer | null);
              r[`${strip(k)}_base64`] = b === null ? null : b.toString('base64');
            } else if (k.endsWith('_enc')) {
              throw new CairnError('CAIRN_ERR_INTERNAL', `Exporter ${s.id} does not say how to export the encrypted column ${s.table}.${k}.`);
            } else if (parse.has(k) && typeof v === 'string') r[k] = parseOrKeep(v);
            else if (Buffer.isBuffer(v)) r[`${k}_base64`] = v.toString('base64');
            else r[k] = v;
          }
          out.push(s.map ? s.map(r) : r);
        }
        yield out;
      }
    },
  };
}
