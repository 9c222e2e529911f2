/**
 * A Standard Webhooks sender for tests: headers made by the `standardwebhooks` library's own
 * `sign`, the reference implementation senders use, so a test that idflow accepts them proves
 * interoperability rather than agreement with itself.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A fresh secret in the standard's form: `whsec_` and base64 of `bytes` random bytes. */
export function testSecret(bytes = 32): string {
  return `whsec_${randomBytes(bytes).toString('base64')}`;
}

/** The three headers (a type, not an interface: it is a `Record<string, string>` too). */
export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * The headers a Standard Webhooks sender sends with `body` (its bytes as they go on the wire).
 * `at` defaults to now; several secrets give several signatures, space-separated.
 */
export function signDelivery(
  secrets: string | string[],
  id: string,
  body: string | Uint8Array,
  at: Date = new Date(),
): SignedHeaders {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const all = Array.isArray(secrets) ? secrets : [secrets];
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': all.map((s) => new Webhook(s).sign(id, at, bytes)).join(' '),
  };
}

/** A random webhook-id shaped like the ones Svix sends (`msg_` and 24 characters). */
export function testWebhookId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}
