/**
 * `correlate`: matches a record to a person by a Correlation's rules. The run evaluates each
 * rule's values over the record (CEL, here, deterministic); the `correlateRecord` activity
 * looks them up on idflow's database, the record's explicit link first. A rule that matches
 * more than one person opens a review: the run waits, like an approval, for an operator's
 * `resolveReview` update choosing a candidate (or a new person), then goes on with that person.
 */
import {
  ApplicationFailure,
  condition,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { stringify } from '../../src/dsl/cel-runtime';
import { evaluateRules } from '../../src/dsl/correlation-rules';
import type { CorrelateStepIR, JsonValue } from '../../src/dsl/ir';
import { CORRELATE_OUTPUT_SHAPE } from '../../src/dsl/shapes';
import type { CorrelateResult, ReviewResolution } from '../../src/temporal/correlation';
import { reviewUpdate } from '../review';
import { stepFailure, type FlowRun } from '../run';
import { callWithParking } from './call';
import { visibleText } from '../../src/temporal/visible';

/** The review a run waits on, and the operator's resolution once it came. */
interface PendingReview {
  reviewId: string;
  step: string;
  for: 'person' | 'account';
  candidates: string[];
  resolution?: ReviewResolution;
}

const pending = new WeakMap<FlowRun, PendingReview>();

const { settleReview } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m', backoffCoefficient: 2 },
});

/** Refuses a resolution that does not fit the review the run waits on (the gateway maps types). */
function validateResolution(run: FlowRun, resolution: ReviewResolution): void {
  const review = pending.get(run);
  const refuse = (type: string, message: string) => {
    throw ApplicationFailure.nonRetryable(message, type);
  };
  if (!review || review.reviewId !== resolution.reviewId)
    return refuse('ReviewNotWaiting', `the run does not wait on review ${resolution.reviewId}`);
  if (review.resolution) return refuse('ReviewResolved', 'the review is already resolved');
  if (resolution.create === true) {
    if (review.for === 'account')
      refuse('NotACandidate', 'an account is matched to a person, never to a new one');
    return;
  }
  if (!resolution.personId || !review.candidates.includes(resolution.personId))
    refuse('NotACandidate', `${resolution.personId ?? 'nobody'} is not a candidate of this review`);
}

/** Registers the `resolveReview` update of a run (at its start, before it may wait on one). */
export function handleReviews(run: FlowRun): void {
  setHandler(
    reviewUpdate,
    (resolution: ReviewResolution) => {
      const review = pending.get(run) as PendingReview;
      review.resolution = resolution;
      return { reviewId: review.reviewId, status: 'resolved' as const };
    },
    { validator: (resolution: ReviewResolution) => validateResolution(run, resolution) },
  );
}

function text(value: JsonValue): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = typeof value === 'string' ? value : stringify(value);
  return s === '' ? undefined : s;
}

export async function runCorrelate(run: FlowRun, step: CorrelateStepIR): Promise<void> {
  const record = run.begin(step);
  const data = run.render(step.record, step);
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw stepFailure(step, 'InvalidRecord', 'record gave no map to correlate');
  const kind = step.correlation.for;
  let link: { source: string; id: string };
  if (step.link) {
    const source = text(run.render(step.link.source, step));
    const id = text(run.render(step.link.id, step));
    if (!source || !id) throw stepFailure(step, 'InvalidRecord', 'link gave no source or no id');
    link = { source, id };
  } else {
    const source = typeof data.connector === 'string' ? data.connector : '';
    const id = typeof data.accountId === 'string' ? data.accountId : '';
    if (!source || !id)
      throw stepFailure(step, 'InvalidRecord', 'an account record needs connector and accountId');
    link = { source, id };
  }
  const input = {
    correlation: step.correlation.name,
    for: kind,
    rules: evaluateRules(step.correlation, data, run.evaluation()),
    link,
    onNoMatch: step.onNoMatch,
    runId: run.workflowId,
    flow: run.input.ir.name,
    stepId: step.id,
  };
  const options = { timeoutMs: step.timeoutMs, local: true, retry: step.retry };
  const acts = run.activities(options);
  const result = await callWithParking(run, step, record, options, () =>
    acts.correlateRecord.executeWithOptions({ summary: visibleText(`${step.id}: ${step.title}`) }, [
      input,
    ]),
  );
  if (!result.done) return;
  const found: CorrelateResult = result.value;
  let output: Record<string, JsonValue>;
  switch (found.outcome) {
    case 'matched':
    case 'created':
      output = { outcome: found.outcome, personId: found.personId, rule: found.rule };
      break;
    case 'orphan':
      output = { outcome: 'orphan' };
      break;
    case 'none': {
      const error = {
        type: 'NoCorrelationMatch',
        message: `no rule of '${input.correlation}' matched a person`,
      };
      run.finishStep(record, 'failed', { error });
      throw stepFailure(step, error.type, error.message);
    }
    case 'review': {
      const review: PendingReview = {
        reviewId: found.reviewId,
        step: step.id,
        for: kind,
        candidates: found.candidates,
      };
      pending.set(run, review);
      run.wait(
        {
          kind: 'review',
          step: step.id,
          since: new Date().toISOString(),
          reviewId: found.reviewId,
          candidates: found.candidates,
        },
        `**Waiting for review** ${found.reviewId} at step \`${step.id}\` (${step.title}): rule '${found.rule}' matched ${found.candidates.length} persons. Choose one with \`idflow persons link ${found.reviewId} <person-id>\`.`,
      );
      await condition(() => review.resolution !== undefined);
      run.resume(step.id);
      const settled = await settleReview.executeWithOptions(
        { summary: visibleText(`${step.id}: review resolved`) },
        [
          {
            reviewId: found.reviewId,
            resolution: review.resolution as ReviewResolution,
            for: kind,
            correlation: input.correlation,
            link,
            runId: run.workflowId,
            flow: input.flow,
            stepId: step.id,
          },
        ],
      );
      pending.delete(run);
      output = {
        outcome: settled.created ? 'created' : 'matched',
        personId: settled.personId,
        rule: 'review',
        reviewId: found.reviewId,
      };
      break;
    }
    default: {
      const never: never = found;
      throw new Error(`unknown correlation outcome ${JSON.stringify(never)}`);
    }
  }
  run.setOutput(step.id, output, CORRELATE_OUTPUT_SHAPE);
  run.finishStep(record, 'completed', { output });
}
