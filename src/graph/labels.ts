/**
 * What a diagram says about each step besides its title: the kind and the facts a reviewer
 * checks at a glance (which connector op, how long a wait, who approves, when it times out and
 * escalates). Expressions are shown as written, cut to a readable length.
 */
import { formatDuration } from '../dsl/duration';
import type { ApproverIR, JsonValue, PopulationIR, StepIR, ValueIR } from '../dsl/ir';
import { cleanText, truncate } from './text';

const EXPR_COLUMNS = 48;

function json(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A value template as written in YAML: literals as they are, expressions as `${…}`. */
export function valueText(value: ValueIR): string {
  if ('lit' in value) return json(value.lit);
  if ('expr' in value) return `\${${value.expr}}`;
  if ('concat' in value)
    return value.concat.map((p) => (typeof p === 'string' ? p : `\${${p.expr}}`)).join('');
  if ('list' in value) return `[${value.list.map(valueText).join(', ')}]`;
  return `{${Object.entries(value.map)
    .map(([k, v]) => `${k}: ${valueText(v)}`)
    .join(', ')}}`;
}

function short(text: string): string {
  return truncate(cleanText(text), EXPR_COLUMNS);
}

function approverText(a: ApproverIR): string {
  if ('expr' in a) return a.expr;
  if ('group' in a) return `group ${a.group}`;
  return `role ${a.role}`;
}

function populationText(over: PopulationIR): string {
  if (over.kind === 'items') return valueText(over.items);
  const where = over.where ? ` where ${over.where}` : '';
  if (over.kind === 'persons') return `persons${where}`;
  return `accounts${over.connector ? ` of ${over.connector}` : ''}${where}`;
}

/** The detail lines under a step's title: its kind first, then what matters for that kind. */
export function stepDetails(step: StepIR): string[] {
  switch (step.kind) {
    case 'action':
      return [short(`${step.connector}.${step.op}${step.local ? ' (local)' : ''}`)];
    case 'notify':
      return [
        short(`notify ${step.channel}: ${step.template.name}`),
        short(`to ${valueText(step.to)}`),
      ];
    case 'set':
      return [
        short(
          `set ${Object.keys(step.values)
            .map((k) => `vars.${k}`)
            .join(', ')}`,
        ),
      ];
    case 'if':
      return [short(`if ${step.condition}`)];
    case 'switch':
      return [short(`switch on ${step.on}`)];
    case 'parallel':
      return [
        `parallel: ${step.branches.length} branch${step.branches.length === 1 ? '' : 'es'}${step.failFast ? ', fail fast' : ''}`,
      ];
    case 'wait':
      return [
        step.forMs !== undefined
          ? `wait ${formatDuration(step.forMs)}`
          : short(`wait until ${step.until ? valueText(step.until) : '?'}`),
      ];
    case 'approval': {
      const lines = [
        short(`approval (${step.mode}) by ${step.approvers.map(approverText).join(', ')}`),
        `timeout ${formatDuration(step.timeoutMs)} → ${step.onTimeout}${step.businessHours ? ' (business time)' : ''}`,
      ];
      for (const e of step.escalate)
        lines.push(
          short(
            `escalate after ${formatDuration(e.afterMs)} to ${e.to.map(approverText).join(', ')}`,
          ),
        );
      if (step.remindEveryMs !== undefined)
        lines.push(`remind every ${formatDuration(step.remindEveryMs)}`);
      return lines;
    }
    case 'reconcile':
      return [
        short(
          `reconcile ${step.connectors.length ? step.connectors.join(', ') : 'every connector'}${step.dryRun ? ' (dry run)' : ''}`,
        ),
        ...(step.grace
          ? [`grace ${formatDuration(step.grace.forMs)} for ${step.grace.keep.length} kept`]
          : []),
      ];
    case 'correlate':
      return [short(`correlate by ${step.correlation.name}`), `no match → ${step.onNoMatch}`];
    case 'forEach':
      return [
        short(`for each ${step.as} in ${populationText(step.over)}`),
        `${step.concurrency} at a time${step.maxFailures !== undefined ? `, at most ${step.maxFailures} failures` : ''}`,
        ...(step.guard
          ? [
              `blast radius: ${[
                step.guard.max !== undefined ? `at most ${step.guard.max}` : '',
                step.guard.maxPercent !== undefined ? `at most ${step.guard.maxPercent}%` : '',
              ]
                .filter(Boolean)
                .join(', ')}`,
            ]
          : []),
      ];
    case 'fail':
      return [short(`fail: ${step.code}`)];
    default: {
      const never: never = step;
      throw new Error(`unknown step kind: ${JSON.stringify(never)}`);
    }
  }
}
