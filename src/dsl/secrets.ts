/**
 * Secrets written inline: a definition lives in git, so a password, token or key in it is a
 * leak. Fields whose name says they hold a secret must be `{ secretEnv: NAME }` (or an
 * expression that computes the value at run time); values that are unmistakably credentials
 * (PEM private keys, URLs with a password) are refused wherever they appear.
 */
import type { Path } from './diagnostics';
import { hasInterpolation } from './template';

const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'token', 'credential', 'credentials', 'passphrase']);
const SECRET_PAIRS = new Set(['apikey', 'privatekey', 'accesskey']);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** True for keys like bindPassword, client_secret, apiKey, accessToken. */
export function isSecretKey(key: string): boolean {
  const w = words(key);
  const last = w[w.length - 1] ?? '';
  const lastTwo = w.slice(-2).join('');
  return SECRET_WORDS.has(last) || SECRET_PAIRS.has(lastTwo);
}

function looksLikeCredential(value: string): boolean {
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value) || /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value);
}

/** Paths of every secret written inline in `data`. */
export function findInlineSecrets(data: unknown, path: Path = []): Path[] {
  if (Array.isArray(data)) return data.flatMap((item, i) => findInlineSecrets(item, [...path, i]));
  if (data === null || typeof data !== 'object') {
    return typeof data === 'string' && looksLikeCredential(data) ? [path] : [];
  }
  const found: Path[] = [];
  for (const [key, value] of Object.entries(data)) {
    const inline =
      (typeof value === 'string' && value !== '' && !hasInterpolation(value)) ||
      typeof value === 'number';
    if (isSecretKey(key) && inline) found.push([...path, key]);
    else found.push(...findInlineSecrets(value, [...path, key]));
  }
  return found;
}
