/**
 * Dry runs of events for `POST /v1/plan`: computed by the `dryRunEvent` workflow on the worker
 * (the one process with the targets' credentials), which records nothing but an audit row.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import type { DryRunResult } from '../../dryrun/types';
import type { IdentityEvent } from '../../model/event';
import { redactor } from '../../runs/secrets';
import { executeDryRun } from '../../temporal/dry-run';
import { PLAN_TIMEOUT_MS } from '../../temporal/plan-person';
import { callTemporal, type DependencyMonitor } from './dependencies';
import { planProblem } from './plan-problems';

export class DryRunService {
  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly dependencies?: DependencyMonitor,
    private readonly db?: Database,
    private readonly config?: Config,
  ) {}

  /**
   * What `event` would do, asked by `actor` (`token:<name>`); 504 after a minute, 502 on a
   * failure. Secrets are redacted as in a run's view: values under secret-like keys (a `set`
   * step copying an event's `apiToken`, a read's answer) and every configured secret's value.
   */
  async plan(event: IdentityEvent, actor: string): Promise<DryRunResult> {
    const redact = this.db ? await redactor(this.db, this.config) : undefined;
    const result = await callTemporal(
      this.temporal,
      this.dependencies,
      () =>
        executeDryRun(this.temporal, this.taskQueue, { event, actor }).catch((err: unknown) => {
          throw planProblem(err, {
            title: 'The dry run could not be computed',
            failed: 'the dry run failed',
          });
        }),
      PLAN_TIMEOUT_MS + 5_000,
    );
    return redact ? redact.value(result) : result;
  }
}
