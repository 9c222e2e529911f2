/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a sender signs
 * `<webhook-id>.<webhook-timestamp>.<body>` with HMAC-SHA256 under a shared secret and sends the
 * base64 digest as `v1,<digest>` in `webhook-signature` (several, space-separated, while it
 * rotates). idflow verifies over the body's bytes exactly as received, compares in constant
 * time, accepts any of the source's secrets, and refuses timestamps outside the source's window.
 *
 * Pure: no I/O, no clock (the caller passes `nowMs`), so it is tested exhaustively on its own.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a delivery is not authentic; `unknown-source` and `secret-unset` are decided by callers. */
export type SignatureRefusal = 'unsigned' | 'malformed' | 'forged' | 'stale';

/** The three headers as the request carried them (Express gives a string, an array or nothing). */
export interface WebhookHeaders {
  id?: string | string[];
  timestamp?: string | string[];
  signature?: string | string[];
}

/** Headers that have the Standard Webhooks form; the signatures are v1 digests, decoded. */
export interface ParsedHeaders {
  id: string;
  /** The timestamp as sent (what was signed), unix seconds. */
  timestamp: string;
  digests: Buffer[];
}

/** A webhook-id: printable ASCII without spaces, as an event id (Svix sends `msg_<ksuid>`). */
export const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;
/** Unix seconds, without a sign or a fraction. */
const TIMESTAMP = /^[0-9]{1,12}$/;
/** A v1 entry: `v1,` and the base64 of a 32-byte HMAC-SHA256 digest (padded or not). */
const V1_ENTRY = /^v1,([A-Za-z0-9+/]{43}=?)$/;
/** Entries read from `webhook-signature` at most (a sender rotating sends two or three). */
export const MAX_SIGNATURES = 16;

/** The one value of a header, or undefined when it is absent, repeated or empty. */
function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? single(value[0]) : undefined;
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The headers' Standard Webhooks form, or why they have none: `unsigned` when any of the three
 * is missing, `malformed` when one is there but not in the form (the id may still be named).
 * Never throws, whatever the headers hold.
 */
export function parseWebhookHeaders(
  headers: WebhookHeaders,
): { ok: true; headers: ParsedHeaders } | { ok: false; reason: SignatureRefusal; id?: string } {
  const id = single(headers.id);
  const timestamp = single(headers.timestamp);
  const signature = single(headers.signature);
  const wellFormedId = id !== undefined && WEBHOOK_ID.test(id) ? id : undefined;
  const named = wellFormedId === undefined ? {} : { id: wellFormedId };
  if (id === undefined || timestamp === undefined || signature === undefined)
    return { ok: false, reason: 'unsigned', ...named };
  if (wellFormedId === undefined || !TIMESTAMP.test(timestamp))
    return { ok: false, reason: 'malformed', ...named };
  const digests: Buffer[] = [];
  for (const entry of signature.split(' ').slice(0, MAX_SIGNATURES)) {
    // other schemes (v1a: asymmetric) are skipped, as the standard asks
    const base64 = V1_ENTRY.exec(entry)?.[1];
    if (base64 === undefined) continue;
    // 43 base64 characters are 32 bytes; only their canonical spelling counts, so the two
    // unused low bits of the last one cannot make another valid spelling of a signature
    const digest = Buffer.from(base64, 'base64');
    if (digest.toString('base64').startsWith(base64)) digests.push(digest);
  }
  if (digests.length === 0) return { ok: false, reason: 'malformed', ...named };
  return { ok: true, headers: { id: wellFormedId, timestamp, digests } };
}

/** The HMAC-SHA256 of `<id>.<timestamp>.<body>` under `key`: what a v1 signature carries. */
export function webhookDigest(key: Uint8Array, id: string, timestamp: string, body: Uint8Array) {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** `v1,<base64 digest>`: one entry of `webhook-signature`, as a sender writes it. */
export function signWebhook(
  key: Uint8Array,
  id: string,
  timestamp: string,
  body: Uint8Array,
): string {
  return `v1,${webhookDigest(key, id, timestamp, body).toString('base64')}`;
}

export interface VerifyInput {
  headers: WebhookHeaders;
  /** The request body's bytes exactly as received. */
  body: Uint8Array;
  /** The source's secrets' keys, newest first; any of them may have signed. */
  keys: readonly Uint8Array[];
  nowMs: number;
  /** How far the timestamp may be from `nowMs`, either way. */
  toleranceMs: number;
}

export type Verification =
  | { ok: true; id: string; timestampMs: number; keyIndex: number }
  | { ok: false; reason: SignatureRefusal; id?: string };

/**
 * Whether a delivery was signed by one of `keys` within the window. The signature is checked
 * before the timestamp, so a caller without a secret only ever learns `forged`: a stale answer
 * is given to deliveries a secret really signed (a replay of a captured one, a sender's clock).
 * Every digest is compared with every key's in constant time.
 */
export function verifyWebhook(input: VerifyInput): Verification {
  const parsed = parseWebhookHeaders(input.headers);
  if (!parsed.ok) return parsed;
  const { id, timestamp, digests } = parsed.headers;
  let keyIndex = -1;
  input.keys.forEach((key, i) => {
    const expected = webhookDigest(key, id, timestamp, input.body);
    let match = false;
    for (const digest of digests) match = timingSafeEqual(digest, expected) || match;
    if (match && keyIndex < 0) keyIndex = i;
  });
  if (keyIndex < 0) return { ok: false, reason: 'forged', id };
  const timestampMs = Number(timestamp) * 1000;
  if (Math.abs(input.nowMs - timestampMs) > input.toleranceMs)
    return { ok: false, reason: 'stale', id };
  return { ok: true, id, timestampMs, keyIndex };
}
