/**
 * Secrets out of what a run shows: a step's output, an error message or a variable may hold a
 * credential (a target echoed it, a flow copied an event attribute). Before a run leaves the
 * gateway or the CLI, values under keys that name a secret (password, token, secret,
 * authorization, apiKey, …) are replaced whole, and every configured secret's value is cut out
 * of any string it appears in.
 */
import { isSecretKey } from '../dsl/secrets';

export const REDACTED = '[redacted]';

/** Secrets shorter than this are not searched for in text: they would match by accident. */
const MIN_SECRET_LENGTH = 4;

const EXTRA_SECRET_KEYS = new Set(['authorization', 'cookie', 'setcookie', 'bearer']);

/** Whether a key's value is a secret by its name. */
export function isSecretField(key: string): boolean {
  return isSecretKey(key) || EXTRA_SECRET_KEYS.has(key.toLowerCase().replace(/[^a-z]/g, ''));
}

/** Replaces secrets in JSON-like values; built once per request from the configured secrets. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string> = []) {
    // longest first, so a secret that contains another is cut out whole
    this.secrets = [...new Set(secrets)]
      .filter((s) => s.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.secrets)
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A copy of `value` with secret fields and secret values replaced. */
  value<T>(value: T): T {
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[this.text(key)] =
        isSecretField(key) && v !== null && v !== undefined && typeof v !== 'boolean'
          ? REDACTED
          : this.walk(v);
    }
    return out;
  }
}

/** Names of the environment variables a definition's IR references (`{ secretEnv: NAME }`). */
export function secretEnvNames(ir: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(ir)) for (const v of ir) secretEnvNames(v, into);
  else if (ir !== null && typeof ir === 'object') {
    const secretEnv = (ir as { secretEnv?: unknown }).secretEnv;
    if (typeof secretEnv === 'string') into.add(secretEnv);
    for (const v of Object.values(ir)) secretEnvNames(v, into);
  }
  return into;
}
