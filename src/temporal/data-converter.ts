/**
 * The one data converter every idflow process talks to Temporal with: the gateway's and the
 * CLI's client, the worker (and the workflow bundle it runs), the replay test and the scripts.
 * Failures always travel with their message and stack trace in encoded attributes; with keys,
 * every payload but the texts marked visible is encrypted (codec.ts). Without keys the data
 * converter only moves failure text into a payload, and payloads stay plain JSON.
 */
import type { DataConverter, LoadedDataConverter, Payload } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
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

/** The same, loaded: for reading payloads by hand (decode, then convert). */
export function loadedIdflowDataConverter(keys: readonly PayloadKey[]): LoadedDataConverter {
  return loadDataConverter(idflowDataConverter(keys));
}

/** `payloads` decoded through the converter's codecs (the last codec first, as the SDK does). */
export async function decodePayloads(
  converter: LoadedDataConverter,
  payloads: Payload[],
): Promise<Payload[]> {
  let decoded = payloads;
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded;
}
