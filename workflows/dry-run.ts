/**
 * `dryRunEvent`: what an event would do, changing nothing — for `idflow plan event` and
 * `POST /v1/plan`. It runs on the worker because only the worker holds the targets'
 * credentials; the gateway and the CLI start it (id `dryrun/<personId>/<uuid>`) and wait for
 * the answer. One activity does the work: it reads, it never writes but its audit row.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DryRunInput, DryRunResult } from '../src/dryrun/types';
import { visibleText } from '../src/temporal/visible';

/** Reads the targets: an ordinary activity, retried a few times, never longer than a minute. */
const { dryRunEvent: computeDryRun } = proxyActivities<Pick<Activities, 'dryRunEvent'>>({
  startToCloseTimeout: '60s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

export async function dryRunEvent(input: DryRunInput): Promise<DryRunResult> {
  return computeDryRun.executeWithOptions(
    { summary: visibleText(`dry run of ${input.event.type} for ${input.event.subject.id}`) },
    [input],
  );
}
