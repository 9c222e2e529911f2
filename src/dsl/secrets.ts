/**
 * Secrets written inline: a definition lives in git, so a password, token or key in it is a
 * leak. Fields whose name says they hold a secret must be `{ secretEnv: NAME }` (or an
 * expression that computes the value at run time); values that are unmistakably credentials
 * (PEM private keys, URLs with a password) are refused wherever they appear.
 */
import type { Path } from './diagnostics';
import { hasInterpolation } from './template';

const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'credential',
  'credentials',
  'passphrase',
]);
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

export interface InlineSecret {
  path: Path;
  message: string;
}

const BY_REFERENCE =
  'give it by reference, as { secretEnv: ENV_VAR_NAME }, and set that variable where the worker runs';

function credentialProblem(value: string): string | undefined {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value))
    return `a private key is written inline; ${BY_REFERENCE}`;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value)) {
    return `a URL with a password is written inline; ${BY_REFERENCE}`;
  }
  return undefined;
}

/** Every secret written inline in `data`, with where and what. */
export function findInlineSecrets(data: unknown, path: Path = []): InlineSecret[] {
  if (Array.isArray(data)) return data.flatMap((item, i) => findInlineSecrets(item, [...path, i]));
  if (data === null || typeof data !== 'object') {
    const message = typeof data === 'string' ? credentialProblem(data) : undefined;
    return message ? [{ path, message }] : [];
  }
  const found: InlineSecret[] = [];
  for (const [key, value] of Object.entries(data)) {
    const inline =
      (typeof value === 'string' && value !== '' && !hasInterpolation(value)) ||
      typeof value === 'number';
    if (isSecretKey(key) && inline) {
      found.push({
        path: [...path, key],
        message: `secret written inline in '${key}': ${BY_REFERENCE}`,
      });
    } else {
      found.push(...findInlineSecrets(value, [...path, key]));
    }
  }
  return found;
}
