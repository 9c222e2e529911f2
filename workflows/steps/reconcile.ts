/**
 * `reconcile`: one person's access brought to their desired state. Read and plan; record the
 * plan; carry out every removal, and only then the additions; wait on the approvals SoD rules
 * ask for and carry out the grants approved; read again and verify. Entitlements a grace period keeps are removed by the
 * same run when its timer fires, while the flow goes on.
 */
import { sleep } from '@temporalio/workflow';
import { changeLine as line, planSummary } from '../../src/access/plan';
import type { AccessPlan, Change, HeldBack } from '../../src/access/types';
import { formatDuration } from '../../src/dsl/duration';
import type { ApprovalStepIR, ReconcileStepIR } from '../../src/dsl/ir';
import { RECONCILE_OUTPUT_SHAPE } from '../../src/dsl/shapes';
import type { StepRecord } from '../../src/temporal/contracts';
import { stepFailure, type FlowRun } from '../run';
import { runApproval } from './approval';
import { callWithParking } from './call';
import { visibleText } from '../../src/temporal/visible';

type Phase = 'removals' | 'additions' | 'approved' | 'grace';

class Reconciler {
  constructor(
    readonly run: FlowRun,
    readonly step: ReconcileStepIR,
    readonly personId: string,
  ) {}

  private get options() {
    return { timeoutMs: this.step.timeoutMs, local: false, retry: this.step.retry };
  }

  private get acts() {
    return this.run.activities(this.options);
  }

  private common() {
    return { runId: this.run.runId, flow: this.run.input.ir.name, stepId: this.step.id };
  }

  async plan(record: StepRecord, keep: boolean, summary: string): Promise<AccessPlan | undefined> {
    const input = {
      ...this.common(),
      personId: this.personId,
      connectors: this.step.connectors,
      ...(keep && this.step.grace ? { keep: this.step.grace.keep } : {}),
      record: !this.step.dryRun,
    };
    const result = await callWithParking(this.run, this.step, record, this.options, () =>
      this.acts.planAccess.executeWithOptions(
        { summary: visibleText(`${this.step.id}: ${summary}`) },
        [input],
      ),
    );
    return result.done ? result.value : undefined;
  }

  /** Carries out `changes` (one phase); false when an operator skipped it. */
  async apply(record: StepRecord, phase: Phase, changes: Change[]): Promise<boolean> {
    if (changes.length === 0) return true;
    const input = {
      ...this.common(),
      personId: this.personId,
      changes,
      idempotencyKey: `${this.run.keyFor(this.step.id)}/${phase}`,
    };
    const result = await callWithParking(this.run, this.step, record, this.options, () =>
      this.acts.applyAccess.executeWithOptions(
        { summary: visibleText(`${this.step.id}: ${phase} (${changes.length})`) },
        [input],
      ),
    );
    return result.done;
  }

  /** Asks each rule's approval once for the grants it holds back; the approved ones go ahead. */
  async approvals(heldBack: HeldBack[]): Promise<{ granted: Change[]; refused: HeldBack[] }> {
    const granted: Change[] = [];
    // a forEach item never waits on an approver: what a rule wants approved is held back
    if (this.run.item) return { granted, refused: heldBack };
    const refused: HeldBack[] = heldBack.filter((h) => h.action === 'block');
    const rules = [...new Set(heldBack.filter((h) => h.action === 'approval').map((h) => h.rule))];
    for (const rule of rules) {
      const held = heldBack.filter((h) => h.rule === rule && h.action === 'approval');
      const approval = held[0]?.approval as ApprovalStepIR;
      const id = `${this.step.id}-sod-${rule}`;
      await runApproval(this.run, {
        ...approval,
        id,
        title: `Separation of duties: ${rule}`,
        access: { lit: held.map((h) => ({ change: line(h.change), reason: h.reason })) },
      });
      const task = this.run.approvals.find((t) => t.step === id);
      if (task?.status === 'approved') granted.push(...held.map((h) => h.change));
      else refused.push(...held);
    }
    return { granted, refused };
  }
}

export async function runReconcile(run: FlowRun, step: ReconcileStepIR): Promise<void> {
  const record = run.begin(step);
  const person = run.render(step.person, step);
  if (typeof person !== 'string' || person === '')
    throw stepFailure(
      step,
      'ExpressionFailed',
      `person gave ${JSON.stringify(person)}, not a person id`,
    );
  const r = new Reconciler(run, step, person);
  const plan = await r.plan(record, true, 'read and plan');
  if (!plan) return;
  if (plan.problems.length > 0) {
    const error = { type: 'AccessPlanInvalid', message: plan.problems.join('; ') };
    run.finishStep(record, 'failed', { error, output: { plan: planSummary(plan) } });
    throw stepFailure(step, error.type, `nothing was changed: ${error.message}`);
  }
  const finish = (output: Record<string, unknown>) => {
    const value = {
      dryRun: step.dryRun,
      removed: 0,
      added: 0,
      kept: plan.kept.length,
      blocked: [] as Array<{ rule: string; reason: string }>,
      ...output,
      plan: planSummary(plan),
    };
    run.setOutput(step.id, value, RECONCILE_OUTPUT_SHAPE);
    run.finishStep(record, 'completed', { output: value as never });
  };
  if (step.dryRun) {
    finish({});
    return;
  }
  if (!(await r.apply(record, 'removals', plan.removals))) return;
  if (!(await r.apply(record, 'additions', plan.additions))) return;
  // grants a rule wants approved wait on it; everything else is in place meanwhile
  const { granted: approved, refused } = await r.approvals(plan.heldBack);
  // an approval may come days later: what is granted then is what the person should have then
  let granted: Change[] = [];
  if (approved.length > 0) {
    const now = await r.plan(record, true, 'plan again after the approval');
    if (!now) return;
    const wanted = new Set(approved.map(line));
    granted = [...now.additions, ...now.heldBack.map((h) => h.change)].filter((c) =>
      wanted.has(line(c)),
    );
    if (!(await r.apply(record, 'approved', granted))) return;
  }
  const additions = [...plan.additions, ...granted];
  const verify = await r.plan(record, true, 'verify');
  if (!verify) return;
  const grantedLines = new Set(granted.map(line));
  const left = [
    ...verify.removals,
    ...verify.additions,
    ...verify.heldBack.map((h) => h.change).filter((c) => grantedLines.has(line(c))),
  ];
  if (left.length > 0) {
    const error = {
      type: 'AccessNotConverged',
      message: `after the changes the targets still differ: ${left.map(line).join('; ')}`,
    };
    run.finishStep(record, 'failed', { error });
    throw stepFailure(step, error.type, error.message);
  }
  finish({
    removed: plan.removals.length,
    added: additions.length,
    blocked: refused.map((h) => ({ rule: h.rule, reason: h.reason })),
  });
  if (step.grace && plan.kept.length > 0) {
    const grace = step.grace;
    const until = new Date(Date.now() + grace.forMs).toISOString();
    const over = `grace period of ${formatDuration(grace.forMs)} over`;
    run.defer(
      `${step.id}-grace`,
      until,
      sleep(grace.forMs).then(() => endGrace(run, step, person, plan.kept, over)),
      // a run cancelled during the grace period leaves nothing behind: the kept access goes now
      () =>
        endGrace(run, step, person, plan.kept, 'the run was cancelled: the grace period ends now'),
    );
  }
}

/** The end of a grace period: the kept entitlements go, if nothing grants them again meanwhile. */
async function endGrace(
  run: FlowRun,
  step: ReconcileStepIR,
  person: string,
  kept: Change[],
  why: string,
): Promise<void> {
  const graceStep = {
    ...step,
    id: `${step.id}-grace`,
    title: `${step.title}: end of grace period`,
  };
  const r = new Reconciler(run, graceStep, person);
  const record = run.begin(graceStep);
  const plan = await r.plan(record, false, why);
  if (!plan) return;
  if (plan.problems.length > 0) {
    // access is never taken away on a plan that could not be worked out
    const error = { type: 'AccessPlanInvalid', message: plan.problems.join('; ') };
    run.finishStep(record, 'failed', { error });
    throw stepFailure(graceStep, error.type, `the kept access was left: ${error.message}`);
  }
  const keptLines = new Set(kept.map(line));
  const due = plan.removals.filter((c) => keptLines.has(line(c)));
  if (!(await r.apply(record, 'grace', due))) return;
  const output = { removed: due.length, removals: due.map(line) };
  run.finishStep(record, 'completed', { output });
}
