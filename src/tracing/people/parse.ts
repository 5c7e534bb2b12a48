/**
 * Reading a people directory (R-CT-5, R-DATA-11) from CSV or JSON into records: the org's person
 * id, name, e-mail address, device MACs and badge ids. Only those fields are read (R-PRIV-1):
 * other columns or properties are skipped and named in the summary, never kept. Errors say which
 * row and field is wrong, never the value (it is personal data). Pure.
 */
import { CairnError } from '../../kernel/errors.ts';
import { normaliseMac } from '../../privacy/index.ts';

/** One person of an import. Personal (R-DATA-11): everything here is encrypted or pseudonymised before storage. */
export interface PersonRecord {
  /** The org's own id of the person (employee number, directory id). */
  personId: string;
  name?: string;
  email?: string;
  /** MACs, normalised to 12 lower-case hex digits. */
  macs: string[];
  /** Badge ids exactly as the sources report them (trimmed). */
  badges: string[];
}

export interface ParsedPeople {
  people: PersonRecord[];
  /** Columns (CSV) or properties (JSON) that were not read. */
  ignored: string[];
}

export const PEOPLE_IMPORT_MAX = 50_000;
const MAX_DEVICES_PER_PERSON = 32;
const FIELD_MAX = { personId: 128, name: 256, email: 320 } as const;

/** Column / property names each field is read from (lower-case, without spaces, dashes or underscores). */
const ALIASES: Record<string, keyof PersonRecord> = {
  personid: 'personId', person: 'personId', id: 'personId', employeeid: 'personId',
  name: 'name', fullname: 'name', displayname: 'name',
  email: 'email', mail: 'email', emailaddress: 'email',
  macs: 'macs', mac: 'macs', devicemacs: 'macs', macaddresses: 'macs',
  badges: 'badges', badge: 'badges', badgeids: 'badges', badgeid: 'badges',
};

const fieldOf = (name: string): keyof PersonRecord | undefined => ALIASES[name.toLowerCase().replace(/[\s_-]/g, '')];

function bad(row: number, field: string, why: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', `Person ${row}: ${field} ${why}.`, { row, field });
}

/** Split a list cell: `;`, `|`, `,` or white space between items. */
function items(v: unknown, row: number, field: string): string[] {
  if (v === undefined || v === null || v === '') return [];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[;|,\s]+/) : null;
  if (!list || list.some((x) => typeof x !== 'string')) throw bad(row, field, 'must be a list of strings');
  const out = (list as string[]).map((x) => x.trim()).filter((x) => x !== '');
  if (out.length > MAX_DEVICES_PER_PERSON) throw bad(row, field, `holds more than ${MAX_DEVICES_PER_PERSON} entries`);
  return out;
}

function text(v: unknown, row: number, field: keyof typeof FIELD_MAX): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw bad(row, field, 'must be text');
  const s = String(v).trim();
  if (s === '') return undefined;
  if (s.length > FIELD_MAX[field] || /[\u0000-\u001f\u007f]/.test(s)) throw bad(row, field, `must be at most ${FIELD_MAX[field]} printable characters`);
  return s;
}

/** Validate and normalise one person given as field → raw value; `row` counts from 1. */
export function personRecord(raw: Partial<Record<keyof PersonRecord, unknown>>, row: number): PersonRecord {
  const personId = text(raw.personId, row, 'personId');
  if (personId === undefined) throw bad(row, 'personId', 'is missing');
  const p: PersonRecord = { personId, macs: [], badges: [] };
  const name = text(raw.name, row, 'name');
  if (name !== undefined) p.name = name;
  const email = text(raw.email, row, 'email');
  if (email !== undefined) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw bad(row, 'email', 'is not an e-mail address');
    p.email = email;
  }
  for (const m of items(raw.macs, row, 'macs')) {
    const mac = normaliseMac(m);
    if (!mac) throw bad(row, 'macs', 'holds something that is not a MAC address');
    if (!p.macs.includes(mac)) p.macs.push(mac);
  }
  for (const b of items(raw.badges, row, 'badges')) {
    if (b.length > 128 || /[\u0000-\u001f\u007f]/.test(b)) throw bad(row, 'badges', 'holds an id longer than 128 characters or with control characters');
    if (!p.badges.includes(b)) p.badges.push(b);
  }
  return p;
}

/** Refuse the same person id, MAC or badge twice in one import. */
function checkUnique(people: readonly PersonRecord[]): void {
  const ids = new Set<string>();
  const devices = new Set<string>();
  people.forEach((p, i) => {
    if (ids.has(p.personId)) throw bad(i + 1, 'personId', 'repeats an earlier person');
    ids.add(p.personId);
    for (const d of [...p.macs.map((m) => `mac:${m}`), ...p.badges.map((b) => `badge:${b}`)]) {
      if (devices.has(d)) throw bad(i + 1, d.startsWith('mac:') ? 'macs' : 'badges', 'names a device an earlier person has');
      devices.add(d);
    }
  });
  if (people.length > PEOPLE_IMPORT_MAX) throw new CairnError('CAIRN_ERR_VALIDATION', `An import holds at most ${PEOPLE_IMPORT_MAX} people; split the file.`, { field: 'people' });
}

/**
 * Split CSV text (RFC 4180: quoted fields may hold commas, quotes as `""`, line breaks) into rows.
 * A UTF-8 byte-order mark and empty lines are skipped.
 */
export function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const end = () => {
    row.push(cell);
    cell = '';
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') end();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      end();
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else cell += c;
  }
  if (quoted) throw new CairnError('CAIRN_ERR_VALIDATION', 'The CSV ends inside a quoted field.', { field: 'csv' });
  end();
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}

/**
 * People from CSV with a header row naming the columns (person_id, name, email, macs, badges;
 * several MACs or badges in one cell separated by `;`).
 *
 * @example parsePeopleCsv('person_id,name,macs\r\nE1,Ann,aa:bb:cc:dd:ee:01;aa:bb:cc:dd:ee:02\r\n')
 */
export function parsePeopleCsv(text: string): ParsedPeople {
  const rows = csvRows(text);
  const header = rows.shift();
  if (!header) throw new CairnError('CAIRN_ERR_VALIDATION', 'The CSV is empty; it needs a header row (person_id, name, email, macs, badges).', { field: 'csv' });
  const cols = header.map((h) => fieldOf(h.trim()));
  if (!cols.includes('personId')) throw new CairnError('CAIRN_ERR_VALIDATION', 'The CSV header has no person id column (person_id).', { field: 'csv' });
  const ignored = header.filter((_, i) => cols[i] === undefined).map((h) => h.trim().slice(0, 64));
  const people = rows.map((r, i) => {
    const raw: Partial<Record<keyof PersonRecord, unknown>> = {};
    cols.forEach((f, j) => {
      if (f !== undefined && r[j] !== undefined) raw[f] = r[j];
    });
    return personRecord(raw, i + 1);
  });
  checkUnique(people);
  return { people, ignored };
}

/**
 * People from JSON: an array of objects, or `{ "people": [...] }`; each with `personId`, and
 * optionally `name`, `email`, `macs` and `badges` (arrays, or strings separated by `;`).
 */
export function parsePeopleJson(value: unknown): ParsedPeople {
  const list = Array.isArray(value) ? value : value !== null && typeof value === 'object' && Array.isArray((value as { people?: unknown }).people) ? (value as { people: unknown[] }).people : null;
  if (!list) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give an array of people, or an object with a "people" array.', { field: 'people' });
  const ignored = new Set<string>();
  const people = list.map((o, i) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw bad(i + 1, 'person', 'must be an object');
    const raw: Partial<Record<keyof PersonRecord, unknown>> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      const f = fieldOf(k);
      if (f === undefined) ignored.add(k.slice(0, 64));
      else raw[f] = v;
    }
    return personRecord(raw, i + 1);
  });
  checkUnique(people);
  return { people, ignored: [...ignored] };
}

/** CSV or JSON text, by format. */
export function parsePeople(text: string, format: 'csv' | 'json'): ParsedPeople {
  if (format === 'csv') return parsePeopleCsv(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CairnError('CAIRN_ERR_VALIDATION', 'The file is not valid JSON.', { field: 'json' });
  }
  return parsePeopleJson(value);
}
