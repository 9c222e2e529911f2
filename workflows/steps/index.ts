/** The interpreter's dispatcher: runs a list of steps in order, one handler per step kind. */
import type { StepIR } from '../../src/dsl/ir';
import type { FlowRun } from '../run';
import { runAction } from './action';
import { runApproval } from './approval';
import { chooseIf, chooseSwitch } from './branch';
import { runCorrelate } from './correlate';
import { runFail } from './fail';
import { runForEach } from './for-each';
import { runNotify } from './notify';
import { runParallel } from './parallel';
import { runReconcile } from './reconcile';
import { runSet } from './set';
import { runWait } from './wait';

export async function runSteps(run: FlowRun, steps: readonly StepIR[]): Promise<void> {
  for (const step of steps) await runStep(run, step);
}

async function runStep(run: FlowRun, step: StepIR): Promise<void> {
  switch (step.kind) {
    case 'action':
      return runAction(run, step);
    case 'if':
      return runSteps(run, chooseIf(run, step));
    case 'switch':
      return runSteps(run, chooseSwitch(run, step));
    case 'parallel':
      return runParallel(run, step);
    case 'set':
      return runSet(run, step);
    case 'wait':
      return runWait(run, step);
    case 'notify':
      return runNotify(run, step);
    case 'fail':
      return runFail(run, step);
    case 'approval':
      return runApproval(run, step);
    case 'reconcile':
      return runReconcile(run, step);
    case 'correlate':
      return runCorrelate(run, step);
    case 'forEach':
      return runForEach(run, step);
    default: {
      const never: never = step;
      throw new Error(`unknown step kind in IR: ${JSON.stringify(never)}`);
    }
  }
}
