/**
 * Many flow runs waiting on approvals, started the way the dispatch workflow starts them but
 * straight from the client (no event and dispatch per run), for the scale test and benchmark.
 */
import { randomBytes } from 'node:crypto';
import type { FlowIR } from '../../src/dsl/ir';
import { activeDefinitions } from '../../src/db/repos/definitions';
import { runWorkflowId, type IdentityEvent } from '../../src/model/event';
import type { RunFlowInput } from '../../src/temporal/contracts';
import {
  IdflowDefinitionHash,
  IdflowEventType,
  IdflowFlow,
  IdflowStatus,
  IdflowSubject,
} from '../../src/temporal/search-attributes';
import type { Harness } from './harness';

export interface WaitingRunsOptions {
  flow: string;
  eventType: string;
  count: number;
  /** Subject ids are `<prefix>-<i>`. */
  prefix: string;
  managerId: string;
  concurrency?: number;
}

/** Starts `count` runs of `flow` (its active version); returns their workflow ids. */
export async function startWaitingRuns(h: Harness, options: WaitingRunsOptions): Promise<string[]> {
  const [flow] = await activeDefinitions(h.db.db, 'Flow', [options.flow]);
  if (!flow) throw new Error(`flow ${options.flow} is not active`);
  const batch = randomBytes(4).toString('hex');
  const ids: string[] = [];
  let next = 0;
  const startOne = async (i: number) => {
    const subjectId = `${options.prefix}-${i}`;
    const event: IdentityEvent = {
      source: 'test-hr',
      id: `evt-${batch}-${i}`,
      type: options.eventType,
      occurredAt: new Date().toISOString(),
      subject: { id: subjectId, displayName: `Subject ${subjectId}`, managerId: options.managerId },
    };
    const input: RunFlowInput = {
      ir: flow.ir as FlowIR,
      hash: flow.hash,
      event,
      subject: { ...event.subject },
    };
    const workflowId = runWorkflowId(options.flow, subjectId, event.id);
    await h.client.workflow.start('runFlow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [input],
      staticSummary: `${options.flow} for ${subjectId}`,
      typedSearchAttributes: [
        { key: IdflowFlow, value: options.flow },
        { key: IdflowSubject, value: subjectId },
        { key: IdflowEventType, value: options.eventType },
        { key: IdflowStatus, value: 'Running' },
        { key: IdflowDefinitionHash, value: flow.hash },
      ],
    });
    ids[i] = workflowId;
  };
  await Promise.all(
    Array.from({ length: options.concurrency ?? 32 }, async () => {
      while (next < options.count) await startOne(next++);
    }),
  );
  return ids;
}
