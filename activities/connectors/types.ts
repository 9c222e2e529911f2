/** What every connector op receives besides its arguments. */
import type { ConnectorIR } from '../../src/dsl/ir';

export interface OpContext {
  connector: string;
  config: ConnectorIR['config'];
  idempotencyKey: string;
  runId: string;
  flow: string;
  stepId: string;
  /** The step's timeout for one attempt, when the caller knows it. */
  timeoutMs?: number;
  /** Aborts when the activity is cancelled or times out. */
  signal?: AbortSignal;
}
