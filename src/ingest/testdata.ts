/**
 * Test support (not exported from the module): where the shared, curated payload samples live
 * (`shared/data/formats/`, `shared/data/contacts/`, beside the checkout) and a reader for them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `shared/data/` next to the repository root. */
export const SHARED_DATA_DIR = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** A file from `shared/data/formats/` as text. @example readFormat('mist-ping.json') */
export function readFormat(name: string): string {
  return readFileSync(`${SHARED_DATA_DIR}formats/${name}`, 'utf8');
}

/** A file from `shared/data/contacts/` as text. @example readContacts('tij_WS16.dat') */
export function readContacts(name: string): string {
  return readFileSync(`${SHARED_DATA_DIR}contacts/${name}`, 'utf8');
}
