/**
 * Standard Webhooks verification without a gateway: deliveries signed by the standard's own
 * library are accepted under any of a source's secrets, exactly within the window; any change
 * of one byte of the body, the id, the timestamp or the signature is refused; garbage headers
 * never throw.
 */
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  MAX_SIGNATURES,
  parseWebhookHeaders,
  signWebhook,
  verifyWebhook,
  type WebhookHeaders,
} from '../../src/sources/webhook-signature';
import { signDelivery } from '../support/webhooks';

const NOW = Date.UTC(2026, 11, 6, 10, 0, 0);
const TOLERANCE = 5 * 60_000;

const key = fc.uint8Array({ minLength: 24, maxLength: 64 });
const secretOf = (k: Uint8Array) => `whsec_${Buffer.from(k).toString('base64')}`;
const webhookId = fc.stringMatching(/^[\x21-\x7e]{1,64}$/);
const body = fc.uint8Array({ maxLength: 512 });
/** Whole seconds within the window. */
const offsetSeconds = fc.integer({ min: -TOLERANCE / 1000, max: TOLERANCE / 1000 });

function headersOf(h: Record<string, string>): WebhookHeaders {
  return {
    id: h['webhook-id'],
    timestamp: h['webhook-timestamp'],
    signature: h['webhook-signature'],
  };
}

describe('verifyWebhook', () => {
  test('accepts what the standardwebhooks library signs, under the key that signed it', () => {
    fc.assert(
      fc.property(
        fc.array(key, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        webhookId,
        body,
        offsetSeconds,
        (keys, pick, id, bytes, offset) => {
          const signer = pick % keys.length;
          const at = new Date(NOW + offset * 1000);
          const headers = signDelivery(secretOf(keys[signer]!), id, bytes, at);
          const check = verifyWebhook({
            headers: headersOf({ ...headers }),
            body: bytes,
            keys,
            nowMs: NOW,
            toleranceMs: TOLERANCE,
          });
          expect(check).toEqual({
            ok: true,
            id,
            timestampMs: Math.floor(at.getTime() / 1000) * 1000,
            // the first key that verifies: the same key listed twice is found at its first place
            keyIndex: keys.findIndex((k) => Buffer.compare(k, keys[signer]!) === 0),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  test('signs exactly as the library does', () => {
    fc.assert(
      fc.property(key, webhookId, body, fc.integer({ min: 0, max: 4e9 }), (k, id, bytes, ts) => {
        const at = new Date(ts * 1000);
        expect(signWebhook(k, id, String(ts), bytes)).toBe(
          new Webhook(secretOf(k)).sign(id, at, bytes),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('refuses a delivery with any one byte of its body, id, timestamp or signature changed', () => {
    const part = fc.constantFrom('body', 'id', 'timestamp', 'signature');
    fc.assert(
      fc.property(
        key,
        webhookId,
        body,
        part,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (k, id, bytes, which, at, delta) => {
          const signed = signDelivery(secretOf(k), id, bytes, new Date(NOW));
          const headers = headersOf({ ...signed });
          let sent: Uint8Array = bytes;
          const change = (text: string) => {
            const b = Buffer.from(text, 'latin1');
            const i = at % b.length;
            b[i] = (b[i]! + delta) % 256;
            return b.toString('latin1');
          };
          if (which === 'body') {
            if (bytes.length === 0) return;
            const copy = Uint8Array.from(bytes);
            copy[at % copy.length] = (copy[at % copy.length]! + delta) % 256;
            sent = copy;
          } else if (which === 'id') headers.id = change(id);
          else if (which === 'timestamp') headers.timestamp = change(signed['webhook-timestamp']);
          else headers.signature = change(signed['webhook-signature']);
          const check = verifyWebhook({
            headers,
            body: sent,
            keys: [k],
            nowMs: NOW,
            toleranceMs: TOLERANCE,
          });
          expect(check.ok).toBe(false);
          if (!check.ok) expect(['forged', 'malformed', 'stale']).toContain(check.reason);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a signature under a key the source does not hold is forged', () => {
    fc.assert(
      fc.property(key, key, webhookId, body, (signer, held, id, bytes) => {
        fc.pre(Buffer.compare(signer, held) !== 0);
        const headers = headersOf({ ...signDelivery(secretOf(signer), id, bytes, new Date(NOW)) });
        expect(
          verifyWebhook({ headers, body: bytes, keys: [held], nowMs: NOW, toleranceMs: TOLERANCE }),
        ).toEqual({ ok: false, reason: 'forged', id });
      }),
      { numRuns: 100 },
    );
  });

  test('refuses timestamps outside the window either way, and only those', () => {
    fc.assert(
      fc.property(key, fc.integer({ min: -7200, max: 7200 }), (k, offset) => {
        const bytes = Buffer.from('{}');
        const at = new Date(NOW + offset * 1000);
        const headers = headersOf({ ...signDelivery(secretOf(k), 'msg_1', bytes, at) });
        const check = verifyWebhook({
          headers,
          body: bytes,
          keys: [k],
          nowMs: NOW,
          toleranceMs: TOLERANCE,
        });
        if (Math.abs(offset) * 1000 <= TOLERANCE) expect(check.ok).toBe(true);
        else expect(check).toEqual({ ok: false, reason: 'stale', id: 'msg_1' });
      }),
      { numRuns: 300 },
    );
  });

  test('the window edges: exactly the tolerance is in, one second more is out', () => {
    const k = Buffer.alloc(32, 7);
    const bytes = Buffer.from('{"a":1}');
    const at = (s: number) =>
      verifyWebhook({
        headers: headersOf({ ...signDelivery(secretOf(k), 'm', bytes, new Date(NOW + s * 1000)) }),
        body: bytes,
        keys: [k],
        nowMs: NOW,
        toleranceMs: TOLERANCE,
      }).ok;
    expect([at(-300), at(300), at(-301), at(301), at(0)]).toEqual([true, true, false, false, true]);
  });

  test('a stale delivery that is also forged is forged: only a secret holder learns the window', () => {
    const bytes = Buffer.from('{}');
    const headers = headersOf({
      ...signDelivery(secretOf(Buffer.alloc(32, 1)), 'm', bytes, new Date(NOW - 3600_000)),
    });
    expect(
      verifyWebhook({
        headers,
        body: bytes,
        keys: [Buffer.alloc(32, 2)],
        nowMs: NOW,
        toleranceMs: TOLERANCE,
      }),
    ).toEqual({ ok: false, reason: 'forged', id: 'm' });
  });

  test('one good signature among others (a sender rotating, another scheme) verifies', () => {
    const k = Buffer.alloc(32, 3);
    const bytes = Buffer.from('{"x":true}');
    const good = signDelivery(secretOf(k), 'm', bytes, new Date(NOW));
    const other = signDelivery(secretOf(Buffer.alloc(32, 4)), 'm', bytes, new Date(NOW));
    const signature = `v1a,abc ${other['webhook-signature']} ${good['webhook-signature']}`;
    const check = verifyWebhook({
      headers: { ...headersOf({ ...good }), signature },
      body: bytes,
      keys: [k],
      nowMs: NOW,
      toleranceMs: TOLERANCE,
    });
    expect(check.ok).toBe(true);
  });

  test('the same key listed twice verifies with its first place', () => {
    const k = Buffer.alloc(32, 8);
    const bytes = Buffer.from('{}');
    const headers = headersOf({ ...signDelivery(secretOf(k), 'm', bytes, new Date(NOW)) });
    const check = verifyWebhook({
      headers,
      body: bytes,
      keys: [Buffer.alloc(32, 1), k, k],
      nowMs: NOW,
      toleranceMs: TOLERANCE,
    });
    expect(check).toMatchObject({ ok: true, keyIndex: 1 });
  });

  test('a key later in the list verifies with its index (rotation: the previous secret)', () => {
    const [newest, previous] = [Buffer.alloc(32, 5), Buffer.alloc(32, 6)];
    const bytes = Buffer.from('{}');
    const headers = headersOf({ ...signDelivery(secretOf(previous), 'm', bytes, new Date(NOW)) });
    const check = verifyWebhook({
      headers,
      body: bytes,
      keys: [newest, previous],
      nowMs: NOW,
      toleranceMs: TOLERANCE,
    });
    expect(check).toMatchObject({ ok: true, keyIndex: 1 });
  });
});

describe('parseWebhookHeaders', () => {
  test('garbage never throws: absent headers are unsigned, present bad ones malformed', () => {
    const value = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 80 }),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      fc.stringMatching(/^v1,[A-Za-z0-9+/=]{0,50}( v1,[A-Za-z0-9+/=]{0,50})*$/),
    );
    fc.assert(
      fc.property(value, value, value, (id, timestamp, signature) => {
        const parsed = parseWebhookHeaders({ id, timestamp, signature });
        if (!parsed.ok) expect(['unsigned', 'malformed']).toContain(parsed.reason);
        else {
          expect(parsed.headers.digests.length).toBeGreaterThan(0);
          expect(parsed.headers.digests.every((d) => d.length === 32)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('each missing header makes it unsigned; a well-formed id is still named', () => {
    expect(parseWebhookHeaders({})).toEqual({ ok: false, reason: 'unsigned' });
    expect(parseWebhookHeaders({ id: 'msg_1', timestamp: '1' })).toEqual({
      ok: false,
      reason: 'unsigned',
      id: 'msg_1',
    });
    expect(parseWebhookHeaders({ id: 'msg_1', signature: 'v1,x' })).toStrictEqual({
      ok: false,
      reason: 'unsigned',
      id: 'msg_1',
    });
    expect(parseWebhookHeaders({ timestamp: '1', signature: 'v1,x' })).toStrictEqual({
      ok: false,
      reason: 'unsigned',
    });
    // an empty header is no header
    expect(parseWebhookHeaders({ id: '', timestamp: '1', signature: 'v1,x' })).toStrictEqual({
      ok: false,
      reason: 'unsigned',
    });
    expect(parseWebhookHeaders({ id: 'm', timestamp: '', signature: 'v1,x' })).toStrictEqual({
      ok: false,
      reason: 'unsigned',
      id: 'm',
    });
    // a malformed id is not named
    expect(parseWebhookHeaders({ id: 'a b', timestamp: '1' })).toStrictEqual({
      ok: false,
      reason: 'unsigned',
    });
  });

  test('malformed: a repeated header, an id with spaces, a signed or fractional timestamp', () => {
    const sig = `v1,${Buffer.alloc(32).toString('base64')}`;
    const cases: WebhookHeaders[] = [
      { id: ['a', 'b'], timestamp: '1', signature: sig },
      { id: 'a b', timestamp: '1', signature: sig },
      { id: 'a', timestamp: '-1', signature: sig },
      { id: 'a', timestamp: '1.5', signature: sig },
      { id: 'a', timestamp: '1', signature: 'v2,abc' },
      { id: 'a', timestamp: '1', signature: `v1,${Buffer.alloc(31).toString('base64')}` },
      { id: 'x'.repeat(257), timestamp: '1', signature: sig },
      { id: 'a', timestamp: '1', signature: `x${sig}` },
      { id: 'a', timestamp: '1', signature: `${sig}x` },
      { id: 'a', timestamp: '1', signature: `${sig}AAAA` },
    ];
    for (const headers of cases) {
      const parsed = parseWebhookHeaders(headers);
      expect(parsed.ok).toBe(false);
    }
    expect(parseWebhookHeaders({ id: ['a'], timestamp: ['1'], signature: [sig] }).ok).toBe(true);
  });

  test('only the canonical base64 of a digest counts: unused low bits cannot make a twin', () => {
    const canonical = Buffer.alloc(32, 0).toString('base64'); // ends in "A="
    const twin = `${canonical.slice(0, 42)}B=`; // decodes to the same 32 bytes
    expect(Buffer.from(twin, 'base64').equals(Buffer.alloc(32, 0))).toBe(true);
    expect(parseWebhookHeaders({ id: 'a', timestamp: '1', signature: `v1,${twin}` }).ok).toBe(
      false,
    );
    const unpadded = canonical.slice(0, 43);
    expect(parseWebhookHeaders({ id: 'a', timestamp: '1', signature: `v1,${unpadded}` }).ok).toBe(
      true,
    );
  });

  test(`reads at most ${MAX_SIGNATURES} signatures`, () => {
    const k = Buffer.alloc(32, 9);
    const bytes = Buffer.from('{}');
    const good = signWebhook(k, 'm', String(NOW / 1000), bytes);
    const junk = Array.from({ length: MAX_SIGNATURES }, () => `v1,${'A'.repeat(43)}=`);
    const late = verifyWebhook({
      headers: { id: 'm', timestamp: String(NOW / 1000), signature: [...junk, good].join(' ') },
      body: bytes,
      keys: [k],
      nowMs: NOW,
      toleranceMs: TOLERANCE,
    });
    expect(late).toEqual({ ok: false, reason: 'forged', id: 'm' });
    const inTime = verifyWebhook({
      headers: {
        id: 'm',
        timestamp: String(NOW / 1000),
        signature: [...junk.slice(1), good].join(' '),
      },
      body: bytes,
      keys: [k],
      nowMs: NOW,
      toleranceMs: TOLERANCE,
    });
    expect(inTime.ok).toBe(true);
  });
});
