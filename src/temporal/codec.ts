/**
 * idflow's payload codec: AES-256-GCM over each whole serialized Payload, so a workflow's
 * inputs, results, signals, updates, queries, memos and failure details reach Temporal's
 * history, database and visibility store as ciphertext. Each encrypted payload names its key
 * (`encryption-key-id`) so keys can rotate: the first key encrypts, every configured key
 * decrypts. A payload that is not `binary/encrypted` (histories from before encryption, and the
 * texts idflow marks visible: static summaries and details) passes through unchanged.
 *
 * Errors name key ids and what is wrong, never key material or payload contents.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { VISIBLE_METADATA_KEY } from './visible';

/** The `encoding` of an encrypted payload (the name Temporal's encryption samples use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata entry naming the key that encrypted a payload. */
export const KEY_ID_METADATA_KEY = 'encryption-key-id';
/** Bytes of the random nonce that starts every encrypted payload's data. */
export const IV_BYTES = 12;
/** Bytes of the GCM authentication tag that ends it. */
export const TAG_BYTES = 16;
/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;

/** Key ids: short, printable, safe in metadata, logs and error messages. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One configured key: its id (written into each payload it encrypts) and its 32 bytes. */
export interface PayloadKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A payload that cannot be decrypted: names the key id (when it is one) and why. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    message: string,
    /** The key id the payload names, when it names a valid one. */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8');

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? utf8.decode(bytes) : undefined;
}

/** A key id read from a payload, quoted for a message; an id that is not one is not echoed. */
function shownKeyId(id: string): string {
  return KEY_ID_PATTERN.test(id) ? `'${id}'` : '(not a valid key id)';
}

/** Whether idflow marked `payload` as text to keep readable (see visible.ts). */
function isVisible(payload: Payload): boolean {
  return payload.metadata?.[VISIBLE_METADATA_KEY] !== undefined;
}

/** Whether `payload` is one this codec encrypted. */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/**
 * Encrypts with the first of `keys`, decrypts with any of them. Throws at construction for no
 * keys, a key that is not 32 bytes, an invalid or repeated key id.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly current: PayloadKey;

  constructor(keys: readonly PayloadKey[]) {
    const first = keys[0];
    if (!first) throw new Error('a payload codec needs at least one key');
    const byId = new Map<string, Buffer>();
    for (const [i, k] of keys.entries()) {
      if (!KEY_ID_PATTERN.test(k.id)) throw new Error(`key ${i + 1}: not a valid key id`);
      if (k.key.length !== KEY_BYTES)
        throw new Error(`key '${k.id}': must be ${KEY_BYTES} bytes, not ${k.key.length}`);
      if (byId.has(k.id)) throw new Error(`key '${k.id}' is configured twice`);
      byId.set(k.id, k.key);
    }
    this.keys = byId;
    this.current = first;
  }

  /** The id of the key new payloads are encrypted with. */
  get encryptingKeyId(): string {
    return this.current.id;
  }

  /** Every configured key id, the encrypting one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads.map((p) => this.encodeOne(p)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads.map((p) => this.decodeOne(p)));
  }

  /** `payload` encrypted with the current key; a payload marked visible is left as it is. */
  encodeOne(payload: Payload): Payload {
    if (isVisible(payload)) return payload;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA_KEY]: Buffer.from(this.current.id),
      },
      data: sealed,
    };
  }

  /** The payload `payload` encrypts; any other payload as it is. */
  decodeOne(payload: Payload): Payload {
    const metadata = payload.metadata;
    if (!metadata || text(metadata.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(metadata[KEY_ID_METADATA_KEY]);
    if (keyId === undefined)
      throw new PayloadDecryptionError(
        `an encrypted payload has no ${KEY_ID_METADATA_KEY}: it cannot be decrypted`,
      );
    const named = KEY_ID_PATTERN.test(keyId) ? keyId : undefined;
    // only valid ids are configured: an invalid one finds no key
    const key = this.keys.get(keyId);
    if (!key)
      throw new PayloadDecryptionError(
        `a payload is encrypted with key ${shownKeyId(keyId)}, which is not configured (configured: ${this.keyIds.join(', ')}); add it back to IDFLOW_PAYLOAD_KEYS to read this payload`,
        named,
      );
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(
        `a payload encrypted with key '${keyId}' is too short to be one (${data.length} bytes)`,
        keyId,
      );
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `a payload encrypted with key '${keyId}' does not authenticate: it was altered, or the key configured as '${keyId}' is not the one that encrypted it`,
        keyId,
      );
    }
    try {
      const decoded = temporal.api.common.v1.Payload.decode(plain);
      return {
        metadata: decoded.metadata,
        data: decoded.data,
        ...(decoded.externalPayloads.length ? { externalPayloads: decoded.externalPayloads } : {}),
      };
    } catch {
      throw new PayloadDecryptionError(
        `a payload encrypted with key '${keyId}' does not hold a Temporal payload`,
        keyId,
      );
    }
  }
}
