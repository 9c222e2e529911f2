/** `notify`: render the recipients and data, and send through the channel as an activity. */
import type { NotifyStepIR } from '../../src/dsl/ir';
import { stepFailure, type CallOptions, type FlowRun } from '../run';
import { callWithParking } from './call';
import { visibleText } from '../../src/temporal/visible';

/**
 * The log channel writes to idflow's own log and database: a local activity. Email and Slack
 * channels take their connector's timeout and retry policy.
 */
function notifyOptions(step: NotifyStepIR): CallOptions {
  return {
    timeoutMs: step.timeoutMs ?? 30_000,
    local: step.channelType === 'log',
    retry: step.retry ?? {
      maximumAttempts: 5,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 60_000,
    },
  };
}

export async function runNotify(run: FlowRun, step: NotifyStepIR): Promise<void> {
  const record = run.begin(step);
  const rendered = run.render(step.to, step);
  const to = (Array.isArray(rendered) ? rendered : [rendered]).filter(
    (r) => r !== null && r !== '',
  );
  if (to.length === 0)
    throw stepFailure(step, 'NoRecipient', 'no recipient: every address in `to` is empty');
  const data = run.render(step.data, step) as Record<string, never>;
  const call = {
    channel: step.channel,
    channelType: step.channelType,
    to: to.map(String),
    template: step.template,
    data,
    idempotencyKey: run.keyFor(step.id),
    runId: run.runId,
    flow: run.input.ir.name,
    stepId: step.id,
    ...(step.attachments
      ? {
          attachments: step.attachments.map((a) => ({
            filename: a.filename,
            rows: run.render(a.rows, step),
          })),
        }
      : {}),
  };
  const options = notifyOptions(step);
  const { sendNotification } = run.activities(options);
  const result = await callWithParking(run, step, record, options, () =>
    sendNotification.executeWithOptions({ summary: visibleText(`${step.id}: ${step.title}`) }, [
      call,
    ]),
  );
  if (result.done) run.finishStep(record, 'completed', { output: { ...result.value } });
}
