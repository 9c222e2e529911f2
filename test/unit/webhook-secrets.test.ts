/**
 * Webhook secrets: the `whsec_` form the standard's libraries read, the sizes idflow takes,
 * secrets generated for operators, and variables read once with only their names reported.
 */
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  MAX_SECRET_BYTES,
  MIN_SECRET_BYTES,
  WebhookSecrets,
  generateWebhookSecret,
  parseWebhookSecret,
  type UnusableSecret,
} from '../../src/sources/webhook-secrets';

describe('parseWebhookSecret', () => {
  test('reads whsec_<base64> and bare base64 of 24 to 64 bytes to the key the library uses', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: MIN_SECRET_BYTES, maxLength: MAX_SECRET_BYTES }),
        fc.boolean(),
        fc.constantFrom('', '\n', '  '),
        (bytes, prefixed, space) => {
          const text = `${prefixed ? 'whsec_' : ''}${Buffer.from(bytes).toString('base64')}`;
          const parsed = parseWebhookSecret(`${space}${text}${space}`);
          expect(parsed).toEqual({ ok: true, key: Buffer.from(bytes) });
          // the same key as the reference library's: same signature
          const at = new Date(1_700_000_000_000);
          const ours = new Webhook(Buffer.from(bytes), { format: 'raw' }).sign('m', at, 'b');
          expect(new Webhook(text).sign('m', at, 'b')).toBe(ours);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('refuses what is not base64, and keys too short or too long, never echoing the text', () => {
    const bad = [
      '',
      'whsec_',
      'whsec_not base64!',
      'whsec_abc',
      `whsec_${Buffer.alloc(MIN_SECRET_BYTES - 1, 1).toString('base64')}`,
      `whsec_${Buffer.alloc(MAX_SECRET_BYTES + 1, 1).toString('base64')}`,
      `whsec_${Buffer.alloc(32, 1).toString('base64url')}_-`,
    ];
    for (const text of bad) {
      const parsed = parseWebhookSecret(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok && text.length > 6) expect(parsed.problem).not.toContain(text.slice(6));
    }
    for (const text of ['whsec_', 'whsec_abc', 'whsec_abcde===', ' '])
      expect(parseWebhookSecret(text)).toEqual({
        ok: false,
        problem: 'is not whsec_ followed by base64',
      });
    expect(parseWebhookSecret(`whsec_${Buffer.alloc(23).toString('base64')}`)).toEqual({
      ok: false,
      problem: 'holds 23 bytes; a webhook secret holds 24 to 64 random bytes',
    });
  });

  test('garbage never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        const parsed = parseWebhookSecret(text);
        if (parsed.ok) expect(parsed.key.length).toBeGreaterThanOrEqual(MIN_SECRET_BYTES);
      }),
      { numRuns: 500 },
    );
  });
});

describe('generateWebhookSecret', () => {
  test('makes fresh secrets that parse back to their size', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret(MAX_SECRET_BYTES);
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(generateWebhookSecret());
    expect(parseWebhookSecret(a).ok).toBe(true);
    const parsed = parseWebhookSecret(b);
    expect(parsed.ok && parsed.key.length).toBe(MAX_SECRET_BYTES);
    const smallest = parseWebhookSecret(generateWebhookSecret(MIN_SECRET_BYTES));
    expect(smallest.ok && smallest.key.length).toBe(MIN_SECRET_BYTES);
    expect(() => generateWebhookSecret(MIN_SECRET_BYTES - 1)).toThrow(
      'a webhook secret holds 24 to 64 random bytes',
    );
    expect(() => generateWebhookSecret(MAX_SECRET_BYTES + 1)).toThrow(RangeError);
    expect(() => generateWebhookSecret(32.5)).toThrow(RangeError);
  });
});

describe('WebhookSecrets', () => {
  const good = generateWebhookSecret();
  const short = Buffer.alloc(8, 0xab).toString('base64');
  const env = { NEW: good, OLD: `whsec_${short}`, EMPTY: '' };

  test('gives the keys of the set variables, newest first, and names each unusable one once', () => {
    const told: UnusableSecret[] = [];
    const secrets = new WebhookSecrets((s) => told.push(s), env);
    for (let i = 0; i < 3; i++) {
      const { keys, unusable } = secrets.keysOf(['NEW', 'OLD', 'EMPTY', 'MISSING']);
      expect(keys).toHaveLength(1);
      expect(unusable).toEqual(['OLD', 'EMPTY', 'MISSING']);
    }
    expect(told).toEqual([
      { variable: 'OLD', problem: 'holds 8 bytes; a webhook secret holds 24 to 64 random bytes' },
      { variable: 'EMPTY', problem: 'is not set in the environment of the gateway' },
      { variable: 'MISSING', problem: 'is not set in the environment of the gateway' },
    ]);
    expect(JSON.stringify(told)).not.toContain(short);
    expect(secrets.keysOf([]).keys).toEqual([]);
    const key = secrets.keysOf(['NEW']).keys[0];
    expect(key?.equals(Buffer.from(good.slice(6), 'base64'))).toBe(true);
  });

  test('reads the process environment by default, quietly by default', () => {
    const secrets = new WebhookSecrets();
    expect(secrets.keysOf(['IDFLOW_NO_SUCH_WEBHOOK_SECRET_VARIABLE']).unusable).toEqual([
      'IDFLOW_NO_SUCH_WEBHOOK_SECRET_VARIABLE',
    ]);
  });
});
