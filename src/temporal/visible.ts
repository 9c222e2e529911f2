/**
 * Text idflow keeps readable in Temporal with payload encryption on: the static summary and
 * static details the Web UI shows for each workflow, and the summaries of activities and
 * timers. The Temporal SDK passes them through the payload codec like every other payload;
 * `visibleText` marks the payload (metadata `idflow-visible`) so idflow's codec leaves it in
 * clear. They carry ids, flow and step names and titles, event types and counts; a run's
 * static summary names its person only with IDFLOW_VISIBLE_PERSONAL_DATA=true.
 *
 * Sandbox-safe (no Node imports): workflows, the gateway and schedules mark text alike.
 */
import { defaultPayloadConverter, RawValue, u8 } from '@temporalio/common';

/** The metadata entry that marks a payload as text to keep readable. */
export const VISIBLE_METADATA_KEY = 'idflow-visible';

/**
 * `text` as the payload the SDK would write for it (json/plain), marked to stay unencrypted.
 * Typed `string` because that is what `staticSummary`, `staticDetails` and `summary` take; it
 * is a RawValue at runtime, which the SDK's payload converter writes as it is. Pass it only
 * there, and only text without personal data.
 */
export function visibleText(text: string): string {
  const payload = defaultPayloadConverter.toPayload(text);
  return RawValue.fromPayload({
    ...payload,
    metadata: { ...payload.metadata, [VISIBLE_METADATA_KEY]: u8('true') },
  }) as unknown as string;
}
