/**
 * Payload keys as an operator writes them: `IDFLOW_PAYLOAD_KEYS` (or the data directory's
 * `payload-keys` file) holds comma-separated `<keyId>:<base64 of 32 bytes>` entries, newest
 * first: the first encrypts, all decrypt. Problems name the entry by its position and, once
 * it parsed, its key id; never the key.
 */
import { randomBytes } from 'node:crypto';
import { KEY_BYTES, KEY_ID_PATTERN, type PayloadKey } from './codec';

/** The file in the data directory `idflow dev` writes a key to when none is configured. */
export const PAYLOAD_KEYS_FILE = 'payload-keys';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The keys `text` configures, in order, and what is wrong with it (empty when nothing is). */
export function parsePayloadKeys(text: string): { keys: PayloadKey[]; problems: string[] } {
  const keys: PayloadKey[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const entries = text.split(/[,\r\n]/);
  for (const [i, raw] of entries.entries()) {
    const entry = raw.trim();
    if (entry === '') continue;
    const n = i + 1;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      problems.push(`entry ${n} must be <keyId>:<base64 of ${KEY_BYTES} bytes>`);
      continue;
    }
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) {
      problems.push(
        `entry ${n}: the key id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
      continue;
    }
    if (!BASE64.test(encoded)) {
      problems.push(`entry ${n} (key '${id}'): the key is not base64`);
      continue;
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      problems.push(
        `entry ${n} (key '${id}'): the key must be ${KEY_BYTES} bytes, not ${key.length} (make one with: openssl rand -base64 32)`,
      );
      continue;
    }
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      problems.push(`entry ${n}: key id '${id}' is already used by entry ${earlier}`);
      continue;
    }
    seen.set(id, n);
    keys.push({ id, key });
  }
  return { keys, problems };
}

/** A fresh key entry, `<id>:<base64>`, as `idflow dev` writes one. */
export function newPayloadKeyEntry(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}
