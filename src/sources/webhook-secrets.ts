/**
 * Webhook secrets in the Standard Webhooks form: `whsec_` and the base64 of 24 to 64 random
 * bytes (the prefix is optional on input, as the standard's libraries accept). A Source names
 * the variables that hold them (`secretEnv`); the gateway reads them with `readSecret` and
 * never writes a value anywhere — only a variable's name appears in logs, audit rows and
 * errors.
 */
import { randomBytes } from 'node:crypto';
import { readSecret } from '../config';

export const SECRET_PREFIX = 'whsec_';
/** Fewer random bytes than this are refused: a guessable key would let anyone sign. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The key a secret's text holds, or why it holds none (a message naming the form, never the
 * text). Surrounding whitespace (a trailing newline from a file) is ignored.
 */
export function parseWebhookSecret(
  text: string,
): { ok: true; key: Buffer } | { ok: false; problem: string } {
  const trimmed = text.trim();
  const base64 = trimmed.startsWith(SECRET_PREFIX) ? trimmed.slice(SECRET_PREFIX.length) : trimmed;
  if (base64 === '' || !BASE64.test(base64))
    return { ok: false, problem: `is not ${SECRET_PREFIX} followed by base64` };
  const key = Buffer.from(base64, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES)
    return {
      ok: false,
      problem: `holds ${key.length} bytes; a webhook secret holds ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes`,
    };
  return { ok: true, key };
}

/** A new secret for a sender and idflow to share: `whsec_` + base64 of `bytes` random bytes. */
export function generateWebhookSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES)
    throw new RangeError(
      `a webhook secret holds ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes`,
    );
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** A variable a Source names that gives no key: unset, or not a secret of the right form. */
export interface UnusableSecret {
  variable: string;
  problem: string;
}

/**
 * Reads a Source's secrets from the environment, once per variable (the environment does not
 * change under a running process), and reports each unusable variable once, by name.
 */
export class WebhookSecrets {
  private readonly read = new Map<string, { key?: Buffer; problem?: string }>();

  constructor(
    /** Told once per unusable variable (the gateway logs a warning naming it). */
    private readonly onUnusable: (secret: UnusableSecret) => void = () => undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The keys of `variables` that are set and valid, in the order given (newest first). */
  keysOf(variables: readonly string[]): { keys: Buffer[]; unusable: string[] } {
    const keys: Buffer[] = [];
    const unusable: string[] = [];
    for (const variable of variables) {
      const known = this.read.get(variable) ?? this.load(variable);
      if (known.key) keys.push(known.key);
      else unusable.push(variable);
    }
    return { keys, unusable };
  }

  private load(variable: string): { key?: Buffer; problem?: string } {
    let text: string | undefined;
    try {
      text = readSecret(variable, this.env);
    } catch {
      text = undefined;
    }
    const parsed = text === undefined ? undefined : parseWebhookSecret(text);
    const entry = parsed?.ok
      ? { key: parsed.key }
      : { problem: parsed ? parsed.problem : 'is not set in the environment of the gateway' };
    this.read.set(variable, entry);
    if (entry.problem) this.onUnusable({ variable, problem: entry.problem });
    return entry;
  }
}
