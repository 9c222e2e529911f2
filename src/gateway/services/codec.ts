/**
 * The codec endpoint's rules: Temporal's remote codec protocol (`{"payloads": [...]}`, each a
 * Payload in proto3 JSON: metadata values and data base64) through idflow's payload codec, for
 * the Web UI and `temporal … --codec-endpoint`. Payloads it does not decrypt come back exactly as
 * sent. Every call is audited with who, which namespace and how many payloads under which key
 * ids, never their contents.
 */
import type { Payload } from '@temporalio/common';
import * as z from 'zod';
import type { Database } from '../../db/client';
import { appendAudit } from '../../db/repos/audit';
import {
  EncryptionCodec,
  PayloadDecryptionError,
  isEncrypted,
  KEY_ID_METADATA_KEY,
  type PayloadKey,
} from '../../temporal/codec';
import { HttpProblem, NotFoundProblem } from '../problems';
import type { Principal } from './tokens';

/** Payloads one request may hold (the body is limited too: CODEC_MAX_BODY_BYTES). */
export const MAX_PAYLOADS = 1000;
/** Bytes of a codec request body: a page of history's payloads, each up to Temporal's 2 MB. */
export const CODEC_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Base64 as proto3 JSON writes bytes (standard or URL-safe alphabet, padding optional). */
const Base64 = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/,
    'must be base64 (proto3 JSON bytes)',
  );

/** One Payload in proto3 JSON; fields beyond metadata and data are kept as sent. */
export const JsonPayload = z
  .looseObject({
    metadata: z.record(z.string().min(1).max(256), Base64).optional(),
    data: Base64.optional(),
  })
  .meta({
    id: 'CodecPayload',
    description:
      'A Temporal Payload in proto3 JSON: `metadata` values and `data` are base64 (`encoding` is the base64 of e.g. `json/plain` or `binary/encrypted`)',
  });
export type JsonPayload = z.infer<typeof JsonPayload>;

/** The body of `/codec/decode` and `/codec/encode`, and of their answers. */
export const CodecPayloads = z
  .object({ payloads: z.array(JsonPayload).max(MAX_PAYLOADS) })
  .meta({ id: 'CodecPayloads' });

const fromBase64 = (text: string) => Buffer.from(text, 'base64');

function toPayload(json: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(json.metadata ?? {}).map(([k, v]) => [k, fromBase64(v)]),
    ),
    ...(json.data !== undefined ? { data: fromBase64(json.data) } : {}),
  };
}

function toJson(payload: Payload): JsonPayload {
  const data = payload.data ?? new Uint8Array();
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    ...(data.length ? { data: Buffer.from(data).toString('base64') } : {}),
  };
}

/** Who called, over what, for the audit row. */
export interface CodecCaller {
  principal: Principal;
  /** The X-Namespace header; absent when the caller sent none. */
  namespace?: string;
}

/**
 * Decodes and encodes for the codec endpoint with the deployment's keys; 404 for every call
 * when no keys are configured (payloads are not encrypted: there is nothing to decode).
 */
export class CodecService {
  private readonly codec?: EncryptionCodec;

  constructor(
    private readonly db: Database,
    keys: readonly PayloadKey[],
    private readonly namespace: string,
  ) {
    if (keys.length) this.codec = new EncryptionCodec(keys);
  }

  private ready(caller: CodecCaller): EncryptionCodec {
    if (!this.codec)
      throw new NotFoundProblem(
        'payload encryption is not configured (IDFLOW_PAYLOAD_KEYS): payloads are not encrypted, there is nothing to decode',
      );
    if (caller.namespace !== undefined && caller.namespace !== this.namespace)
      throw new HttpProblem(
        400,
        'wrong-namespace',
        'Not this codec’s namespace',
        `this codec serves namespace '${this.namespace}' (X-Namespace says another)`,
      );
    return this.codec;
  }

  private audit(caller: CodecCaller, action: string, outcome: string, detail: object) {
    return appendAudit(this.db, {
      actor: `token:${caller.principal.name}`,
      action,
      target: `namespace:${this.namespace}`,
      outcome,
      detail: { ...detail },
    });
  }

  /** The payloads decrypted; 400 naming the first that cannot be (by index and key id). */
  async decode(caller: CodecCaller, payloads: JsonPayload[]): Promise<JsonPayload[]> {
    const codec = this.ready(caller);
    const keyIds = new Map<string, number>();
    const out: JsonPayload[] = [];
    for (const [i, json] of payloads.entries()) {
      const payload = toPayload(json);
      if (!isEncrypted(payload)) {
        out.push(json);
        continue;
      }
      try {
        out.push(toJson(codec.decodeOne(payload)));
      } catch (err) {
        if (!(err instanceof PayloadDecryptionError)) throw err;
        await this.audit(caller, 'payloads.decode-refused', 'refused', {
          payloads: payloads.length,
          index: i,
          ...(err.keyId ? { keyId: err.keyId } : {}),
        });
        throw new HttpProblem(
          400,
          'undecodable-payload',
          'A payload cannot be decoded',
          `payloads/${i}: ${err.message}`,
          err.keyId ? { keyId: err.keyId } : {},
        );
      }
      const id = Buffer.from(payload.metadata?.[KEY_ID_METADATA_KEY] ?? []).toString();
      keyIds.set(id, (keyIds.get(id) ?? 0) + 1);
    }
    await this.audit(caller, 'payloads.decoded', 'ok', {
      payloads: payloads.length,
      decrypted: Object.fromEntries(keyIds),
    });
    return out;
  }

  /** The payloads encrypted with the current key (those marked visible left as they are). */
  async encode(caller: CodecCaller, payloads: JsonPayload[]): Promise<JsonPayload[]> {
    const codec = this.ready(caller);
    const out = payloads.map((json) => {
      const payload = toPayload(json);
      const encoded = codec.encodeOne(payload);
      return encoded === payload ? json : toJson(encoded);
    });
    await this.audit(caller, 'payloads.encoded', 'ok', {
      payloads: payloads.length,
      keyId: codec.encryptingKeyId,
    });
    return out;
  }
}
