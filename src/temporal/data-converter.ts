/**
 * The one data converter every idflow process talks to Temporal with: the gateway's and the
 * CLI's client, the worker (and the workflow bundle it runs), the replay test and the scripts.
 * Failures always travel with their message and stack trace in encoded attributes; with keys,
 * every payload but the texts marked visible is encrypted (codec.ts). Without keys the data
 * converter only moves failure text into a payload, and payloads stay plain JSON.
 */
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, type PayloadKey } from './codec';

/** The module with idflow's `failureConverter` export, for the SDK to load by path. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** idflow's data converter for `keys` (none: no encryption). */
export function idflowDataConverter(keys: readonly PayloadKey[]): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    ...(keys.length ? { payloadCodecs: [new EncryptionCodec(keys)] } : {}),
  };
}
