/**
 * What `idflow graph --run` and `GET /v1/runs/{workflowId}/graph` draw: the IR the run was
 * started with (pinned for its life: the input of its first history event, else the registry's
 * version with the run's definition hash) and the run's step records (its `state` query).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { Database } from '../db/client';
import { DefinitionNotFoundError, findVersion } from '../db/repos/definitions';
import type { FlowIR } from '../dsl/ir';
import { RunNotFoundError } from '../runs/errors';
import { describeRun } from '../runs/view';
import type { RunFlowInput, RunState } from '../temporal/contracts';
import type { RunView } from './highlight';

/** The run did not answer its `state` query in time (no worker polls its task queue). */
export class RunStateUnavailableError extends Error {
  constructor(readonly workflowId: string) {
    super(
      `the run ${JSON.stringify(workflowId)} did not answer its state query in time; is a worker running?`,
    );
    this.name = 'RunStateUnavailableError';
  }
}

/** Neither the run's history nor the registry holds the definition the run was started with. */
export class RunDefinitionMissingError extends Error {
  constructor(
    readonly workflowId: string,
    flow: string,
    hash: string,
  ) {
    super(
      `the definition of run ${JSON.stringify(workflowId)} (flow ${flow}, ${hash}) is neither in its history nor in the registry`,
    );
    this.name = 'RunDefinitionMissingError';
  }
}

export interface RunGraphSource {
  ir: FlowIR;
  hash: string;
  run: RunView;
}

function isFlowIR(value: unknown): value is FlowIR {
  const ir = value as Partial<FlowIR> | undefined;
  return typeof ir?.name === 'string' && Array.isArray(ir.steps);
}

/** The IR in the run's start input, or undefined when history cannot give it. */
async function startedWith(client: Client, workflowId: string): Promise<RunFlowInput | undefined> {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const payloads =
    history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  if (!payloads?.length) return undefined;
  const input = await decodeFromPayloadsAtIndex<RunFlowInput>(
    client.options.loadedDataConverter,
    0,
    payloads,
  );
  return isFlowIR(input?.ir) ? input : undefined;
}

/**
 * The run `workflowId` with its pinned IR. RunNotFoundError when no flow run has that id;
 * RunStateUnavailableError when it does not answer its state query within `queryTimeoutMs`.
 */
export async function loadRunGraph(
  client: Client,
  workflowId: string,
  options: { db?: Database; queryTimeoutMs?: number } = {},
): Promise<RunGraphSource> {
  const { handle } = await describeRun(client, workflowId);
  let state: RunState;
  try {
    state = await client.withDeadline(Date.now() + (options.queryTimeoutMs ?? 5_000), () =>
      handle.query<RunState>('state'),
    );
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(workflowId);
    throw new RunStateUnavailableError(workflowId);
  }
  const input = await startedWith(client, workflowId).catch(() => undefined);
  let ir = input?.ir;
  if ((!ir || input?.hash !== state.hash) && options.db) {
    try {
      const version = await findVersion(options.db, 'Flow', state.flow, state.hash);
      if (isFlowIR(version.ir)) ir = version.ir;
    } catch (err) {
      if (!(err instanceof DefinitionNotFoundError)) throw err;
    }
  }
  if (!ir) throw new RunDefinitionMissingError(workflowId, state.flow, state.hash);
  return {
    ir,
    hash: state.hash,
    run: { workflowId, status: state.status, steps: state.steps },
  };
}
