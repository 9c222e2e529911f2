/**
 * Runs for the gateway: listing, one run's view, operators' decisions and a person's history,
 * through the run operations the CLI uses too (src/runs), each call bounded and refused with a
 * 503 while Temporal is down. Domain errors become problems here: a bad filter or cursor 400,
 * an unknown run 404, a decision the run cannot take now 409.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import { RunInputError, RunNotFoundError, RunNotOperableError } from '../../runs/errors';
import type { RunFilter } from '../../runs/filter';
import { personHistory, type PersonHistory } from '../../runs/history';
import { listRuns, type RunPage } from '../../runs/list';
import { operateRun, type OperateRequest, type OperateResult } from '../../runs/operate';
import { redactor } from '../../runs/secrets';
import { requireRunOf, runSubject } from '../../runs/subject';
import { showRun, type RunView } from '../../runs/view';
import { VisibilityValueError } from '../../temporal/visibility';
import { ConflictProblem, ForbiddenProblem, NotFoundProblem, ValidationProblem } from '../problems';
import { callTemporal, type DependencyMonitor } from './dependencies';

/** The problem a run operation's domain error is answered with; other errors as they are. */
function problemOf(err: unknown): unknown {
  if (err instanceof RunInputError || err instanceof VisibilityValueError) {
    const message = err.message.slice(err.field.length + 2);
    return new ValidationProblem('query', [{ path: `/${err.field}`, message }]);
  }
  if (err instanceof RunNotFoundError) return new NotFoundProblem(err.message);
  if (err instanceof RunNotOperableError)
    return new ConflictProblem(err.message, {
      workflowId: err.workflowId,
      ...(err.status ? { runStatus: err.status } : {}),
    });
  return err;
}

export class RunService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly dependencies?: DependencyMonitor,
    private readonly config?: Config,
  ) {}

  private call<T>(fn: () => Promise<T>, deadlineMs: number): Promise<T> {
    return callTemporal(
      this.temporal,
      this.dependencies,
      () =>
        fn().catch((err: unknown) => {
          throw problemOf(err);
        }),
      deadlineMs,
    );
  }

  list(filter: RunFilter): Promise<RunPage> {
    return this.call(() => listRuns(this.temporal, filter), 10_000);
  }

  /** One run; with `onlyOf`, a run about anyone else is a 404 like an unknown one. */
  async show(workflowId: string, onlyOf?: string): Promise<RunView> {
    const redact = await redactor(this.db, this.config);
    return this.call(async () => {
      if (onlyOf !== undefined) await requireRunOf(this.temporal, workflowId, onlyOf);
      return showRun(this.temporal, workflowId, redact);
    }, 10_000);
  }

  /**
   * An operator's decision. `who.onlyOf`: the caller sees that person's runs only (another's is
   * a 404, as an unknown run); `who.person`: the caller is that person, who never decides on a
   * run about themselves (403) — as the subject never approves their own access.
   */
  operate(
    workflowId: string,
    request: OperateRequest,
    who: { onlyOf?: string; person?: string } = {},
  ): Promise<OperateResult> {
    return this.call(async () => {
      if (who.onlyOf !== undefined || who.person !== undefined) {
        const subject = await runSubject(this.temporal, workflowId);
        if (who.onlyOf !== undefined && subject !== who.onlyOf)
          throw new RunNotFoundError(workflowId);
        if (who.person !== undefined && subject === who.person)
          throw new ForbiddenProblem(
            `${workflowId} is about the token's own person, who does not decide on their own run; an operator does`,
          );
      }
      return operateRun({ client: this.temporal, db: this.db }, workflowId, request);
    }, 15_000);
  }

  async history(personId: string): Promise<PersonHistory> {
    const redact = await redactor(this.db, this.config);
    return this.call(
      () => personHistory({ client: this.temporal, db: this.db }, personId, redact),
      30_000,
    );
  }
}
