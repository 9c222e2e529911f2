/**
 * The payload codec: what it encrypts comes back as it was; a payload altered anywhere, under
 * a key that is not configured, or under another key with the same id is refused with an error
 * naming the key id (never key material); plain and visible payloads pass through.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import fc from 'fast-check';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  IV_BYTES,
  KEY_ID_METADATA_KEY,
  PayloadDecryptionError,
  TAG_BYTES,
  isEncrypted,
  type PayloadKey,
} from '../../src/temporal/codec';
import { VISIBLE_METADATA_KEY, visibleText } from '../../src/temporal/visible';
import { defaultPayloadConverter, RawValue } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const key = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const K1 = key('k1');
const K2 = key('k2');

const bytes = (s: string) => Buffer.from(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString() : undefined);

/** Payloads as the SDK makes them: metadata entries of bytes, data bytes. */
const payload: fc.Arbitrary<Payload> = fc
  .record({
    metadata: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== VISIBLE_METADATA_KEY),
      fc.uint8Array({ maxLength: 16 }),
      { maxKeys: 4 },
    ),
    data: fc.uint8Array({ maxLength: 256 }),
  })
  .map(({ metadata, data }) => ({
    metadata: { encoding: bytes('json/plain'), ...metadata },
    data,
  }));

/** A payload as plain bytes, comparable with toEqual whatever Buffer or Uint8Array holds it. */
function plain(p: Payload): { metadata: Record<string, number[]>; data: number[] } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, [...(v ?? [])]]),
    ),
    data: [...(p.data ?? [])],
  };
}

function decodeError(codec: EncryptionCodec, p: Payload): PayloadDecryptionError {
  try {
    codec.decodeOne(p);
  } catch (err) {
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    return err as PayloadDecryptionError;
  }
  throw new Error('decoded');
}

/** No key's bytes, in any common form, in `message`. */
function expectNoKeyMaterial(message: string, ...keys: PayloadKey[]): void {
  for (const k of keys) {
    expect(message).not.toContain(k.key.toString('base64'));
    expect(message).not.toContain(k.key.toString('hex'));
  }
}

describe('encode and decode', () => {
  test('what is encrypted decrypts to the same payload, under every configured key order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { maxLength: 5 }), async (payloads) => {
        const encoded = await new EncryptionCodec([K1, K2]).encode(payloads);
        expect(encoded).toHaveLength(payloads.length);
        const decoded = await new EncryptionCodec([K2, K1]).decode(encoded);
        expect(decoded.map(plain)).toEqual(payloads.map(plain));
      }),
      { numRuns: 200 },
    );
  });

  test('an encrypted payload names its key and encoding, and holds neither the data nor the metadata', () => {
    const secret = bytes('"Ada Lovelace <ada@example.com>"');
    const encoded = new EncryptionCodec([K1, K2]).encodeOne({
      metadata: { encoding: bytes('json/plain'), note: bytes('p-1001 attributes') },
      data: secret,
    });
    expect(Object.keys(encoded.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA_KEY]);
    expect(text(encoded.metadata?.encoding)).toBe('binary/encrypted');
    expect(ENCRYPTED_ENCODING).toBe('binary/encrypted');
    expect(text(encoded.metadata?.[KEY_ID_METADATA_KEY])).toBe('k1');
    expect(isEncrypted(encoded)).toBe(true);
    expect(isEncrypted({ metadata: { encoding: bytes('json/plain') } })).toBe(false);
    expect(isEncrypted({})).toBe(false);
    const data = Buffer.from(encoded.data ?? []);
    expect(data.includes(secret)).toBe(false);
    expect(data.includes(bytes('p-1001'))).toBe(false);
    expect(data.includes(bytes('json/plain'))).toBe(false);
  });

  test('an empty payload is nonce and tag alone, and decrypts', () => {
    const codec = new EncryptionCodec([K1]);
    const sealed = codec.encodeOne({});
    expect(sealed.data).toHaveLength(IV_BYTES + TAG_BYTES);
    expect(plain(codec.decodeOne(sealed))).toEqual({ metadata: {}, data: [] });
  });

  test('a payload stored elsewhere keeps its external details through encryption', () => {
    const codec = new EncryptionCodec([K1]);
    const external = { data: bytes('x'), externalPayloads: [{}] };
    expect(codec.decodeOne(codec.encodeOne(external)).externalPayloads).toHaveLength(1);
    expect(codec.decodeOne(codec.encodeOne({ data: bytes('x') }))).not.toHaveProperty(
      'externalPayloads',
    );
  });

  test('each encryption uses a fresh nonce: the same payload twice is two ciphertexts', () => {
    const codec = new EncryptionCodec([K1]);
    const p = { metadata: { encoding: bytes('json/plain') }, data: bytes('"x"') };
    const a = Buffer.from(codec.encodeOne(p).data ?? []);
    const b = Buffer.from(codec.encodeOne(p).data ?? []);
    expect(a.subarray(0, IV_BYTES).equals(b.subarray(0, IV_BYTES))).toBe(false);
    expect(a.equals(b)).toBe(false);
    // nonce, the serialized payload's length of ciphertext (GCM adds no padding), tag
    const serialized = temporal.api.common.v1.Payload.encode(p).finish().length;
    expect(a.length).toBe(IV_BYTES + serialized + TAG_BYTES);
  });

  test('the first key encrypts; the codec says which and lists them all', () => {
    const codec = new EncryptionCodec([K2, K1]);
    expect(codec.encryptingKeyId).toBe('k2');
    expect(codec.keyIds).toEqual(['k2', 'k1']);
    expect(text(codec.encodeOne({ data: bytes('1') }).metadata?.[KEY_ID_METADATA_KEY])).toBe('k2');
  });

  test('payloads that are not encrypted pass through decode unchanged (histories from before)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { maxLength: 4 }), async (payloads) => {
        const decoded = await new EncryptionCodec([K1]).decode(payloads);
        decoded.forEach((d, i) => expect(d).toBe(payloads[i]));
      }),
      { numRuns: 50 },
    );
    const bare: Payload = { data: bytes('x') };
    expect(new EncryptionCodec([K1]).decodeOne(bare)).toBe(bare);
    const nothing: Payload = {};
    expect(new EncryptionCodec([K1]).decodeOne(nothing)).toBe(nothing);
  });

  test('a payload marked visible (static summaries) is left in clear by encode', () => {
    const marked = (visibleText('Joiner: p-1001 — joiner-standard') as unknown as RawValue).payload;
    expect(text(marked.metadata?.[VISIBLE_METADATA_KEY])).toBe('true');
    expect(defaultPayloadConverter.fromPayload(marked)).toBe('Joiner: p-1001 — joiner-standard');
    expect(new EncryptionCodec([K1]).encodeOne(marked)).toBe(marked);
    // the same text without the mark is encrypted
    const unmarked = defaultPayloadConverter.toPayload('Joiner: p-1001 — joiner-standard');
    expect(isEncrypted(new EncryptionCodec([K1]).encodeOne(unmarked))).toBe(true);
  });
});

describe('refusals', () => {
  const sample = () => new EncryptionCodec([K1]).encodeOne({ data: bytes('"Ada"') });

  test('a payload under a key that is no longer configured names that key, not its material', () => {
    const err = decodeError(new EncryptionCodec([K2, key('k3')]), sample());
    expect(err.name).toBe('PayloadDecryptionError');
    expect(err.keyId).toBe('k1');
    expect(err.message).toContain("key 'k1', which is not configured (configured: k2, k3)");
    expectNoKeyMaterial(err.message, K1, K2);
  });

  test('another key under the same id does not authenticate, and says so by key id', () => {
    const impostor: PayloadKey = { id: 'k1', key: randomBytes(32) };
    const err = decodeError(new EncryptionCodec([impostor]), sample());
    expect(err.keyId).toBe('k1');
    expect(err.message).toContain("key 'k1' does not authenticate");
    expectNoKeyMaterial(err.message, K1, impostor);
  });

  test('any bit changed in the nonce, the ciphertext or the tag is refused', () => {
    const codec = new EncryptionCodec([K1]);
    const original = codec.encodeOne({
      metadata: { encoding: bytes('json/plain') },
      data: bytes('"Ada Lovelace"'),
    });
    const data = Buffer.from(original.data ?? []);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: data.length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        (index, bit) => {
          const altered = Buffer.from(data);
          altered[index] = (altered[index] as number) ^ (1 << bit);
          const err = decodeError(codec, { ...original, data: altered });
          expect(err.message).toContain('does not authenticate');
        },
      ),
      { numRuns: 300 },
    );
    // the untouched payload still decrypts
    expect(text(codec.decodeOne(original).data)).toBe('"Ada Lovelace"');
  });

  test('data shorter than a nonce and a tag is refused as too short', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: IV_BYTES + TAG_BYTES - 1 }), (data) => {
        const err = decodeError(new EncryptionCodec([K1]), { ...sample(), data });
        expect(err.message).toContain(`too short to be one (${data.length} bytes)`);
      }),
      { numRuns: 50 },
    );
    const missing = sample();
    delete missing.data;
    expect(decodeError(new EncryptionCodec([K1]), missing).message).toContain('(0 bytes)');
  });

  test('an encrypted payload without a key id, or with an id that is not one, is refused without echoing it', () => {
    const p = sample();
    const noId = { ...p, metadata: { encoding: bytes(ENCRYPTED_ENCODING) } };
    expect(decodeError(new EncryptionCodec([K1]), noId).message).toContain(
      `no ${KEY_ID_METADATA_KEY}`,
    );
    const odd = 'k1 <script>';
    const badId = {
      ...p,
      metadata: { ...p.metadata, [KEY_ID_METADATA_KEY]: bytes(odd) },
    };
    const err = decodeError(new EncryptionCodec([K1]), badId);
    expect(err.message).toContain('(not a valid key id)');
    expect(err.message).not.toContain(odd);
    expect(err.keyId).toBeUndefined();
  });

  test('authenticated bytes that are not a Temporal payload are refused', () => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', K1.key, iv);
    // field 1 (metadata) with wire type 7, which protobuf does not have
    const garbage = Buffer.from([0x0f, 0xff, 0xff]);
    const data = Buffer.concat([iv, cipher.update(garbage), cipher.final(), cipher.getAuthTag()]);
    const err = decodeError(new EncryptionCodec([K1]), { ...sample(), data });
    expect(err.message).toContain("key 'k1' does not hold a Temporal payload");
  });
});

describe('configuration', () => {
  test('a codec needs a key, 32 bytes each, valid and distinct ids', () => {
    expect(() => new EncryptionCodec([])).toThrow('at least one key');
    expect(() => new EncryptionCodec([{ id: 'k1', key: randomBytes(16) }])).toThrow(
      "key 'k1': must be 32 bytes, not 16",
    );
    expect(() => new EncryptionCodec([{ id: 'bad id', key: randomBytes(32) }])).toThrow(
      'key 1: not a valid key id',
    );
    expect(() => new EncryptionCodec([K1, { id: 'k1', key: randomBytes(32) }])).toThrow(
      "key 'k1' is configured twice",
    );
  });

  test('a RawValue from visibleText is the text to the SDK', () => {
    const value = visibleText('Timeline of p-1') as unknown;
    expect(value).toBeInstanceOf(RawValue);
    expect(defaultPayloadConverter.toPayload(value)).toBe((value as RawValue).payload);
  });
});
