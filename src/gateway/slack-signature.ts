/**
 * Verifying Slack's request signatures: HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the
 * app's signing secret, compared in constant time, and a five-minute window on the timestamp
 * so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_AGE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function slackSignature(
  secret: string,
  timestamp: string,
  rawBody: Buffer | string,
): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

export function verifySlackRequest(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature)
    return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  const ts = Number(timestamp);
  if (!Number.isInteger(ts)) return { ok: false, reason: 'the timestamp is not a number' };
  if (Math.abs(nowSeconds - ts) > MAX_AGE_SECONDS) {
    return {
      ok: false,
      reason: `the request is ${Math.abs(nowSeconds - ts)} s old (more than ${MAX_AGE_SECONDS} s): a replay?`,
    };
  }
  const expected = Buffer.from(slackSignature(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'the signature does not match' };
  }
  return { ok: true };
}
