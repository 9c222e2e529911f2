/**
 * Accepting identity events: an event is accepted (202) only once Temporal has durably
 * started its dispatch workflow; the same (source, id) again is a no-op answered 200 with the
 * same ids; the same (source, id) with other content is a conflict (409). Temporal or
 * PostgreSQL down → 503, nothing accepted.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { Database } from '../../db/client';
import { isDatabaseUnavailable } from '../../db/errors';
import { findEvent, type EventRow } from '../../db/repos/events';
import { canonicalJson } from '../../dsl/hash';
import { dispatchWorkflowId, timelineWorkflowId, type IdentityEvent } from '../../model/event';
import type { RunRef, TimelineAccept } from '../../temporal/contracts';
import { IdflowEventType, IdflowStatus, IdflowSubject } from '../../temporal/search-attributes';
import { dispatchDetails } from '../../temporal/summaries';
import { timelineStartOptions } from '../../temporal/timeline-start';
import { ConflictProblem, NotFoundProblem, UnavailableProblem } from '../problems';
import { callTemporal, type DependencyMonitor } from './dependencies';
import { visibleText } from '../../temporal/visible';

/**
 * How long a dispatch start may take before the answer is 503. Short on purpose: a start that
 * did reach Temporal is found again by the client's retry (same workflow id), answered 200.
 */
const START_DEADLINE_MS = 1_500;
/** Reading a workflow's state or history for a request. */
const READ_DEADLINE_MS = 5_000;

export interface SubmitResult {
  status: 202 | 200;
  body: {
    source: string;
    eventId: string;
    dispatchWorkflowId: string;
    duplicate: boolean;
    runs?: RunRef[];
  };
}

export interface RunStatus extends RunRef {
  status: string;
  idflowStatus?: string;
}

export class EventService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly dependencies?: DependencyMonitor,
  ) {}

  private temporalCall<T>(fn: () => Promise<T>, deadlineMs: number): Promise<T> {
    return callTemporal(this.temporal, this.dependencies, fn, deadlineMs);
  }

  private async stored(source: string, id: string): Promise<EventRow | undefined> {
    try {
      return await findEvent(this.db, source, id);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw new UnavailableProblem('PostgreSQL');
      throw err;
    }
  }

  async submit(event: IdentityEvent): Promise<SubmitResult> {
    const workflowId = dispatchWorkflowId(event.source, event.id);
    const duplicate = (runs?: RunRef[]): SubmitResult => ({
      status: 200,
      body: {
        source: event.source,
        eventId: event.id,
        dispatchWorkflowId: workflowId,
        duplicate: true,
        ...(runs ? { runs } : {}),
      },
    });
    const existing = await this.stored(event.source, event.id);
    if (existing) {
      if (canonicalJson(existing.body) !== canonicalJson(event)) {
        throw new ConflictProblem(
          `event ${event.source}/${event.id} was already received with other content; send a new id for a new event`,
          { dispatchWorkflowId: workflowId },
        );
      }
      // accepted before, perhaps without its place on the timeline (the first request stopped
      // between its two calls): until its dispatch has decided, the place is held again
      if (!existing.decidedAt) await this.toTimeline(event);
      return duplicate((existing.runs as RunRef[] | null) ?? []);
    }
    try {
      await this.temporalCall(
        () =>
          this.temporal.workflow.start('dispatchEvent', {
            taskQueue: this.taskQueue,
            workflowId,
            args: [event, { timeline: timelineWorkflowId(this.taskQueue, event.subject.id) }],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            staticSummary: visibleText(`${event.type} from ${event.source}: ${event.subject.id}`),
            staticDetails: visibleText(
              dispatchDetails(event, timelineWorkflowId(this.taskQueue, event.subject.id)),
            ),
            typedSearchAttributes: [
              { key: IdflowEventType, value: event.type },
              { key: IdflowSubject, value: event.subject.id },
            ],
          }),
        START_DEADLINE_MS,
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Accepted a moment ago and not recorded yet: compare with what its dispatch started with.
        const first = await this.dispatchInput(workflowId);
        if (first !== undefined && canonicalJson(first) !== canonicalJson(event)) {
          throw new ConflictProblem(
            `event ${event.source}/${event.id} was already received with other content; send a new id for a new event`,
            { dispatchWorkflowId: workflowId },
          );
        }
        // the first request may have stopped before the timeline had it: hand it over again
        // (only the event as it was first sent: another one's type or person takes no place)
        if (first !== undefined) await this.toTimeline(event);
        return duplicate();
      }
      throw err;
    }
    await this.toTimeline(event);
    return {
      status: 202,
      body: {
        source: event.source,
        eventId: event.id,
        dispatchWorkflowId: workflowId,
        duplicate: false,
      },
    };
  }

  /**
   * Gives the event its place on the person's timeline: the order of these signals is the order
   * the person's events apply in. Starts the timeline when the person has none. The timeline
   * ignores an event it already holds.
   */
  private async toTimeline(event: IdentityEvent): Promise<void> {
    const accept: TimelineAccept = { source: event.source, id: event.id, type: event.type };
    await this.temporalCall(
      () =>
        this.temporal.workflow.signalWithStart('personTimeline', {
          ...timelineStartOptions(
            this.taskQueue,
            timelineWorkflowId(this.taskQueue, event.subject.id),
            event.subject.id,
          ),
          signal: 'accept',
          signalArgs: [accept],
        }),
      START_DEADLINE_MS,
    );
  }

  /** The event, its decision trace and the runs it started, with their current status. */
  async get(source: string, id: string): Promise<Record<string, unknown>> {
    const row = await this.stored(source, id);
    const workflowId = dispatchWorkflowId(source, id);
    if (!row) {
      const dispatch = await this.describe(workflowId);
      if (dispatch?.status === 'UNAVAILABLE') throw new UnavailableProblem('Temporal');
      if (!dispatch || dispatch.status === 'NOT_FOUND')
        throw new NotFoundProblem(`no event ${source}/${id}`);
      return {
        source,
        eventId: id,
        dispatchWorkflowId: workflowId,
        dispatch: { status: dispatch.status },
        runs: [],
      };
    }
    const refs = (row.runs as RunRef[] | null) ?? [];
    const runs: RunStatus[] = await Promise.all(
      refs.map(async (ref) => {
        const described = await this.describe(ref.workflowId);
        return {
          ...ref,
          status: !described || described.status === 'UNAVAILABLE' ? 'UNKNOWN' : described.status,
          ...(described?.idflowStatus ? { idflowStatus: described.idflowStatus } : {}),
        };
      }),
    );
    return {
      source,
      eventId: id,
      event: row.body,
      receivedAt: row.receivedAt.toISOString(),
      dispatchWorkflowId: workflowId,
      decision: row.decision
        ? { decidedAt: row.decidedAt?.toISOString(), trace: row.decision }
        : null,
      runs,
    };
  }

  /** The event a dispatch workflow was started with (the input of its first history event). */
  private async dispatchInput(workflowId: string): Promise<unknown> {
    try {
      const history = await this.temporalCall(
        () =>
          this.temporal.workflowService.getWorkflowExecutionHistory({
            namespace: this.temporal.options.namespace,
            execution: { workflowId },
            maximumPageSize: 1,
          }),
        READ_DEADLINE_MS,
      );
      const payloads =
        history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
      // decoded as the client decodes any payload: through the codec when payloads are encrypted
      return payloads?.length
        ? await decodeFromPayloadsAtIndex(this.temporal.options.loadedDataConverter, 0, payloads)
        : undefined;
    } catch (err) {
      if (err instanceof UnavailableProblem) throw err;
      return undefined;
    }
  }

  /**
   * Execution status of a workflow: `NOT_FOUND`, `UNAVAILABLE` when Temporal cannot be reached,
   * undefined when Temporal refuses the question (an id it cannot hold).
   */
  private async describe(
    workflowId: string,
  ): Promise<{ status: string; idflowStatus?: string } | undefined> {
    try {
      const d = await this.temporalCall(
        () => this.temporal.workflow.getHandle(workflowId).describe(),
        READ_DEADLINE_MS,
      );
      const idflowStatus = d.typedSearchAttributes.get(IdflowStatus);
      return { status: d.status.name, ...(idflowStatus ? { idflowStatus } : {}) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND' };
      if (err instanceof UnavailableProblem) return { status: 'UNAVAILABLE' };
      return undefined;
    }
  }
}
