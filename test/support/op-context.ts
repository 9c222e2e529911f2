/** The context a connector op gets from `runConnectorOp`, for tests that call ops directly. */
import type { OpContext } from '../../activities/connectors/types';

export function opContext(
  connector: string,
  config: Record<string, unknown>,
  call: Partial<Pick<OpContext, 'idempotencyKey' | 'runId' | 'flow' | 'stepId'>> = {},
): OpContext {
  return {
    connector,
    config: config as OpContext['config'],
    idempotencyKey: 'test',
    runId: 'test',
    flow: 'test',
    stepId: 'test',
    ...call,
  };
}
