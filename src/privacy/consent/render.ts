/**
 * Server-rendered pages of the guest portal (no build step, no script): templates in
 * `web/portal/` with `{{name}}` (HTML-escaped) and `{{{name}}}` (markup this module built from
 * escaped parts) placeholders, read once and cached. Terms bodies are plain text: blank lines
 * separate paragraphs.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../../kernel/paths.ts';

const templates = new Map<string, string>();

/** Escape text for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Plain text to paragraphs (blank line → new paragraph, line break → `<br>`), escaped. */
export function paragraphs(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => `<p>${esc(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

/** A hidden form field. */
export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
}

/**
 * Fill `web/portal/<name>.html`.
 *
 * @example render('message', { lang: 'nl', title: 'Afmelden', message: '…' })
 */
export function render(name: 'splash' | 'message', values: Record<string, string>): string {
  let t = templates.get(name);
  if (t === undefined) {
    t = readFileSync(packagePath('web', 'portal', `${name}.html`), 'utf8');
    templates.set(name, t);
  }
  return t.replace(/\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}/g, (_m, raw: string | undefined, text: string | undefined) => (raw !== undefined ? (values[raw] ?? '') : esc(values[text!] ?? '')));
}

/** Headers of every portal page: no script at all, no framing, nothing cached. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};
