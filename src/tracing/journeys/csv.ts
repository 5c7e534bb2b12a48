/**
 * CSV for exports (RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a
 * comma, quote or line break). A cell that a spreadsheet would take for a formula (`=`, `+`, `-`,
 * `@`, tab, carriage return first) is prefixed with `'`, so an admin-chosen zone name cannot run
 * in the reader's spreadsheet (CSV injection). Numbers are written as they are.
 */

/** One CSV cell. @example csvCell('a,b') === '"a,b"'; csvCell('=1+1') === "'=1+1" */
export function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') return String(v);
  let s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  if (/[",\r\n]/.test(s)) s = `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** A header and rows as CSV text, CRLF after every line. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}
