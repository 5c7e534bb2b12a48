/**
 * Links in a message's text and HTML bodies (R-ATP-5), checked the simple way: the host of every
 * http(s)/ftp URL and HTML `href`/`action` against the org's domain block list (a listed domain
 * covers its subdomains; the allow list wins for the same host), plus two plain phishing tells:
 * a link to a bare IP address, and an anchor whose visible text is a web address on another
 * domain than the one it links to. Hosts are compared in lower case, IDNs as punycode.
 */
import type { MailReason } from './types.ts';

export interface LinkFinding {
  hosts: string[];
  reasons: MailReason[];
}

const TEXT_URL = /\b(?:https?|ftp):\/\/[^\s<>"'`)\]}]+/gi;
const ATTR = /\b(?:href|action|formaction)\s*=\s*(?:"([^"]{0,4096})"|'([^']{0,4096})'|([^\s>]{1,4096}))/gi;
const TAG = /<[^<>]*>/g;
/** HTML beyond this many characters is not searched for links (bounds the time per message). */
const MAX_HTML_CHARS = 4_000_000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Decodes the HTML entities that matter in URLs (`&amp;`, numeric). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});?/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/**
 * Host of a URL in lower case without a trailing dot (IDNs as punycode), or null when it is not
 * a web or FTP URL. Scheme-less `www.` text counts as http.
 *
 * @example hostOf('HTTPS://Login.Example.COM./x') === 'login.example.com'
 */
export function hostOf(url: string): string | null {
  let u = url.trim().replace(/[\u0000-\u001f\s]+/g, '');
  if (/^www\./i.test(u)) u = 'http://' + u;
  if (!/^(?:https?|ftp):/i.test(u)) return null;
  try {
    const h = new URL(u).hostname.toLowerCase().replace(/\.$/, '');
    return h || null;
  } catch {
    return null;
  }
}

/** True when `host` is `domain` or one of its subdomains. */
export function underDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith('.' + domain);
}

function listed(host: string, list: ReadonlySet<string>): string | null {
  let h = host;
  for (;;) {
    if (list.has(h)) return h;
    const dot = h.indexOf('.');
    if (dot < 0) return null;
    h = h.slice(dot + 1);
  }
}

function isIpHost(host: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
}

/** The registrable-ish part used to compare an anchor's text with its target: the last two labels. */
function siteOf(host: string): string {
  return host.split('.').slice(-2).join('.');
}

/**
 * `<a …>…</a>` pairs in order, found with indexOf (linear in the HTML, whatever its shape); the
 * visible part of an anchor longer than 2000 characters is not examined.
 */
function* anchorsOf(html: string, max: number): Generator<{ attrs: string; inner: string }> {
  const low = html.toLowerCase();
  let close = -1;
  let n = 0;
  for (let i = low.indexOf('<a'); i >= 0 && n < max; i = low.indexOf('<a', i + 2)) {
    const c = low[i + 2];
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r' && c !== '>') continue;
    const gt = low.indexOf('>', i);
    if (gt < 0) return;
    if (close < gt) close = low.indexOf('</a', gt);
    if (close < 0) return;
    n++;
    yield { attrs: html.slice(i + 2, gt), inner: close - gt > 2000 ? '' : html.slice(gt + 1, close) };
  }
}

/**
 * Finds the links of a message level and scores them. `maxLinks` bounds the URLs examined.
 *
 * @example checkLinks('see https://evil.example/x', '', { block: new Set(['evil.example']), allow: new Set() }, 100)
 *   // { hosts: ['evil.example'], reasons: [{ code: 'LINK_BLOCKED_DOMAIN', score: 10, ... }] }
 */
export function checkLinks(text: string, html: string, lists: { block: ReadonlySet<string>; allow: ReadonlySet<string> }, maxLinks: number, part?: string): LinkFinding {
  const urls: string[] = [];
  const push = (u: string | undefined): void => {
    if (u && urls.length < maxLinks) urls.push(u);
  };
  html = html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html;
  for (const m of text.slice(0, MAX_HTML_CHARS).matchAll(TEXT_URL)) push(m[0]);
  for (const m of html.matchAll(ATTR)) push(decodeEntities(m[1] ?? m[2] ?? m[3] ?? ''));
  for (const m of html.replace(TAG, ' ').matchAll(TEXT_URL)) push(decodeEntities(m[0]));
  const hosts = new Set<string>();
  for (const u of urls) {
    const h = hostOf(u);
    if (h) hosts.add(h);
  }
  const reasons: MailReason[] = [];
  const where = part ? { part } : {};
  for (const h of hosts) {
    if (listed(h, lists.allow)) continue;
    const hit = listed(h, lists.block);
    if (hit) reasons.push({ source: 'link', code: 'LINK_BLOCKED_DOMAIN', score: 10, message: `A link points to ${h}, on the block list (${hit}).`, ...where });
    else if (isIpHost(h)) reasons.push({ source: 'link', code: 'LINK_IP_HOST', score: 2, message: `A link points to a bare IP address (${h}).`, ...where });
  }
  for (const a of anchorsOf(html, maxLinks)) {
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(a.attrs);
    const target = href ? hostOf(decodeEntities(href[1] ?? href[2] ?? href[3] ?? '')) : null;
    const shown = decodeEntities(a.inner.replace(TAG, '')).trim();
    if (!target || !/^(?:(?:https?|ftp):\/\/|www\.)[^\s]+$/i.test(shown)) continue;
    const shownHost = hostOf(shown);
    if (!shownHost || listed(target, lists.allow)) continue;
    if (siteOf(shownHost) !== siteOf(target)) {
      reasons.push({ source: 'link', code: 'LINK_TEXT_MISMATCH', score: 4, message: `A link shows ${shownHost} but leads to ${target}.`, ...where });
    }
  }
  return { hosts: [...hosts], reasons };
}
