/** `wait`: a durable timer, for a duration or until a timestamp (no wait if it has passed). */
import { sleep } from '@temporalio/workflow';
import { formatDuration } from '../../src/dsl/duration';
import type { WaitStepIR } from '../../src/dsl/ir';
import { stepFailure, type FlowRun } from '../run';
import { visibleText } from '../../src/temporal/visible';

export async function runWait(run: FlowRun, step: WaitStepIR): Promise<void> {
  const record = run.begin(step);
  let ms = step.forMs ?? 0;
  if (step.until) {
    const until = run.render(step.until, step);
    const at = typeof until === 'string' ? Date.parse(until) : NaN;
    if (Number.isNaN(at))
      throw stepFailure(
        step,
        'ExpressionFailed',
        `until gave ${JSON.stringify(until)}, not a timestamp`,
      );
    ms = Math.max(0, at - Date.now());
  }
  if (ms > 0) {
    const until = new Date(Date.now() + ms).toISOString();
    run.wait(
      { kind: 'timer', step: step.id, until },
      `Waiting until ${until} (${formatDuration(ms)}) at step \`${step.id}\` (${step.title})`,
    );
    await sleep(ms, { summary: visibleText(`${step.id}: ${step.title}`) });
    run.resume(step.id);
  }
  run.finishStep(record, 'completed', { output: { waitedMs: ms } });
}
