/**
 * Payload keys for tests only (never for a deployment): the replay test decrypts the encrypted
 * histories in test/replays/ with TEST_PAYLOAD_KEYS, which scripts/record-replays.ts recorded
 * them under; the integration tests rotate from key 1 to key 2.
 */
import type { PayloadKey } from '../../src/temporal/codec';
import { parsePayloadKeys } from '../../src/temporal/payload-keys';

/** Key 1 (`test-k1`) as IDFLOW_PAYLOAD_KEYS writes it. */
export const TEST_KEY_1 = 'test-k1:lViOjJmzQzptLnzX+mmsQDA5aIbKiSgxeOzVfceO7hw=';
/** Key 2 (`test-k2`). */
export const TEST_KEY_2 = 'test-k2:Z5JMd0R5qIRlpQyzus5jC2M486r7OSs8QfO5D5llHM4=';

/** Both test keys, key 1 encrypting: what the encrypted replay histories were recorded with. */
export const TEST_PAYLOAD_KEYS = `${TEST_KEY_1},${TEST_KEY_2}`;

/** The parsed keys of `text` (test keys are known to be valid). */
export function testKeys(text: string = TEST_PAYLOAD_KEYS): PayloadKey[] {
  return parsePayloadKeys(text).keys;
}
