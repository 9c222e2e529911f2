/**
 * A dry run of an event as an operator reads it, top to bottom: the rules and why they matched,
 * then each flow that would start, its version, and its steps in order — reads with the
 * target's answer, writes as the calls they would be, branches with the condition that chose
 * them, a reconcile's removals before its additions.
 */
import { changeLine } from '../access/plan';
import type { AccessPlan } from '../access/types';
import type { JsonValue } from '../dsl/ir';
import type { DryRunResult, FlowPlan, PlannedBranch, StepPlan } from '../dryrun/types';

/** Control characters shown as `?`: a value cannot move the cursor or clear the terminal. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

/** A JSON value on one line, cut when long. */
function inline(value: JsonValue | undefined, max = 200): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const MODE: Record<StepPlan['mode'], string> = {
  read: 'READ',
  write: 'WRITE',
  decide: 'DECIDE',
  set: 'SET',
  wait: 'WAIT',
  approval: 'APPROVAL',
  notify: 'NOTIFY',
  stop: 'STOP',
  describe: 'PLAN',
};

function reconcileLines(plan: AccessPlan, pad: string): string[] {
  const out: string[] = [];
  if (plan.roles.length)
    out.push(`${pad}roles: ${plan.roles.map((r) => `${r.name} (${r.why})`).join('; ')}`);
  if (plan.removals.length + plan.additions.length === 0)
    out.push(`${pad}no changes: the targets hold exactly the desired access`);
  if (plan.removals.length) {
    out.push(`${pad}removals (carried out first):`);
    for (const c of plan.removals) out.push(`${pad}  - ${changeLine(c)}  [${c.why}]`);
  }
  if (plan.additions.length) {
    out.push(`${pad}additions (after every removal):`);
    for (const c of plan.additions) out.push(`${pad}  + ${changeLine(c)}  [${c.why}]`);
  }
  for (const c of plan.kept) out.push(`${pad}  kept for the grace period: ${changeLine(c)}`);
  for (const h of plan.heldBack)
    out.push(`${pad}  held back (${h.action}, rule ${h.rule}): ${changeLine(h.change)}`);
  for (const h of plan.holds)
    out.push(`${pad}  hold on ${h.connector}: the account stays disabled`);
  for (const p of plan.problems) out.push(`${pad}  ! ${p}`);
  return out;
}

function branchLines(branch: PlannedBranch, pad: string, number: string): string[] {
  const taken = {
    yes: 'taken',
    no: 'not taken',
    unknown: 'may be taken',
    parallel: 'runs in parallel',
  }[branch.taken];
  const empty = branch.steps.length === 0 && branch.taken !== 'no' ? ' (no steps)' : '';
  const out = [`${pad}[${branch.label}] ${taken}${empty}`];
  branch.steps.forEach((s, i) => out.push(...stepLines(s, `${pad}  `, `${number}.${i + 1}`)));
  return out;
}

function stepLines(step: StepPlan, pad: string, number: string): string[] {
  const inner = `${pad}   `;
  const out = [`${pad}${number}. ${step.id} — ${step.title}`];
  out.push(`${inner}${MODE[step.mode]}: ${step.summary}`);
  if (step.condition) {
    const c = step.condition;
    const value =
      c.unknown !== undefined
        ? `unknown (reads ${c.unknown.join(', ')})`
        : c.error !== undefined
          ? `fails: ${c.error}`
          : inline(c.value);
    out.push(`${inner}condition: ${c.expression} → ${value}`);
  }
  if (step.call) {
    out.push(`${inner}call: ${step.call.connector}.${step.call.op} ${inline(step.call.args)}`);
    if (step.call.result !== undefined) out.push(`${inner}answer: ${inline(step.call.result)}`);
    if (step.call.error)
      out.push(`${inner}error: ${step.call.error.type}: ${step.call.error.message}`);
  }
  if (step.values)
    for (const [k, v] of Object.entries(step.values)) out.push(`${inner}${k}: ${inline(v)}`);
  if (step.population) {
    const p = step.population;
    out.push(
      `${inner}population: ${p.matched} match${p.population !== undefined ? ` of ${p.population}` : ''}${p.guard ? ` — ${p.guard}` : ''}`,
    );
  }
  if (step.reconcile) out.push(...reconcileLines(step.reconcile, inner));
  if (step.reconcileError)
    out.push(`${inner}error: ${step.reconcileError.type}: ${step.reconcileError.message}`);
  if (step.unknown?.length) out.push(`${inner}unknown in a dry run: ${step.unknown.join(', ')}`);
  for (const note of step.notes ?? []) out.push(`${inner}note: ${note}`);
  for (const b of step.branches ?? []) out.push(...branchLines(b, inner, number));
  return out;
}

function flowLines(flow: FlowPlan): string[] {
  const version = flow.version !== undefined ? `version ${flow.version}, ` : '';
  const out = [
    '',
    `Flow ${flow.flow} (${flow.title}) — ${version}hash ${flow.hash}`,
    `  would start as ${flow.workflowId}`,
  ];
  flow.steps.forEach((s, i) => out.push(...stepLines(s, '  ', String(i + 1))));
  if (flow.stops) out.push(`  the run would stop: ${flow.stops}`);
  return out;
}

export function renderDryRun(result: DryRunResult): string {
  const { event } = result;
  const out = [
    `Dry run of ${event.type} for ${event.subjectId} (event ${event.source}/${event.id}) — a preview, nothing changed`,
    result.subjectKnown
      ? `${event.subjectId} is in the identity store.`
      : `${event.subjectId} is not in the identity store yet.`,
    '',
    'Rules listening to this event type:',
  ];
  const listening = result.rules.filter((r) => !r.reason.startsWith('listens to '));
  if (listening.length === 0) out.push('  none');
  for (const r of listening) {
    const mark = r.matched ? 'match' : 'no   ';
    const kind = r.fallback ? 'fallback' : `priority ${r.priority}`;
    out.push(`  ${mark} ${r.policy}/${r.rule} (${kind}) → ${r.flows.join(', ')}: ${r.reason}`);
  }
  const others = result.rules.length - listening.length;
  if (others > 0) out.push(`  (${others} other rule(s) listen to other event types)`);
  if (result.flows.length === 0 && result.notActive.length === 0)
    out.push('', 'No flow would start: no rule matched this event.');
  for (const name of result.notActive)
    out.push('', `Flow ${name} is named by a matching rule but not active: no run would start.`);
  for (const flow of result.flows) out.push(...flowLines(flow));
  return out.map(clean).join('\n');
}
