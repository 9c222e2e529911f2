/**
 * One handler per step kind: check the step against the flow so far and lower it to IR.
 * `compileStep` dispatches on the kind and is exhaustive over it.
 */
import { connectorType, LOG_CHANNEL } from '../../connectors/registry';
import { argsOf } from '../../connectors/spec';
import { didYouMean, listNames, type Path, suggest } from '../diagnostics';
import { fitsInputShape } from '../inputs';
import type { StepIR, SwitchCaseIR, ValueIR } from '../ir';
import { jsonSchemaOf } from '../json-schema';
import { describeShape, isListShape } from '../shapes';
import {
  stepKind,
  type ActionStep,
  type ApprovalStep,
  type CorrelateStep,
  type FailStep,
  type ForEachStep,
  type IfStep,
  type NotifyStep,
  type ParallelStep,
  type ReconcileStep,
  type SetStep,
  type Step,
  type SwitchStep,
  type WaitStep,
} from '../schema';
import { compileApproval } from './approval';
import { compileCorrelate } from './correlation';
import { compileForEach } from './for-each';
import { ArgsChecker } from './args';
import { cloneState, mergeStates, type FlowCompiler, type FlowState } from './flow';
import { compileParallel } from './parallel';
import { compileReconcile } from './reconcile';
import { isBroken } from './report';
import { ms, retryOf } from './retry';
import { placeholdersOf } from './templates';
import type { StepInfo } from './values';

type Result = { ir?: StepIR; state: FlowState };

function info(fc: FlowCompiler, step: Step): StepInfo {
  return (
    fc.info.steps.get(step.id) ?? {
      id: step.id,
      kind: stepKind(step),
      order: Number.MAX_SAFE_INTEGER,
    }
  );
}

function action(fc: FlowCompiler, step: ActionStep, path: Path, state: FlowState): Result {
  const after = { ...cloneState(state), done: new Set([...state.done, step.id]) };
  const resolved = fc.actions.get(step.id);
  if (!resolved) return { state: after };
  const { connector, spec, op, output } = resolved;
  const env = fc.env(state, info(fc, step));
  const checker = new ArgsChecker(fc.report, fc.sd, fc.values, env, step.action.op);
  const args = checker.check(
    [...path, 'action', 'args'],
    step.action.args ?? {},
    jsonSchemaOf(argsOf(op, connector.doc.config), 'input'),
  );
  if (!args) return { state: after };
  const timeoutMs = ms(step.action.timeout) ?? ms(connector.doc.timeout) ?? spec.defaults.timeoutMs;
  return {
    ir: {
      kind: 'action',
      id: step.id,
      title: step.title ?? step.id,
      connector: connector.doc.metadata.name,
      connectorType: spec.type,
      op: step.action.op,
      args,
      timeoutMs,
      local: spec.local,
      retry: retryOf(spec.defaults.retry, connector.doc.retry, step.action.retry),
      output,
    },
    state: after,
  };
}

function ifStep(fc: FlowCompiler, step: IfStep, path: Path, state: FlowState): Result {
  const at = [...path, 'if'];
  const condition = fc.values.condition(
    [...at, 'condition'],
    step.if.condition,
    fc.env(state, info(fc, step)),
  );
  if (condition === 'true' && step.if.else) {
    fc.error(
      [...at, 'else'],
      'unreachable-branch',
      'the condition is always true, so the else branch never runs',
      true,
    );
  }
  if (condition === 'false') {
    fc.error(
      [...at, 'then'],
      'unreachable-branch',
      'the condition is always false, so the then branch never runs',
      true,
    );
  }
  const then = fc.list(step.if.then, [...at, 'then'], cloneState(state));
  const otherwise = step.if.else
    ? fc.list(step.if.else, [...at, 'else'], cloneState(state))
    : { ir: [], state };
  const merged = endedWithin(step.id, mergeStates([then.state, otherwise.state]));
  if (condition === undefined) return { state: merged };
  return {
    ir: {
      kind: 'if',
      id: step.id,
      title: step.title ?? step.id,
      condition,
      then: then.ir,
      else: otherwise.ir,
    },
    state: merged,
  };
}

/** A branching step whose every branch ends the run ends it itself. */
function endedWithin(id: string, state: FlowState): FlowState {
  return state.endedBy ? { ...state, endedBy: id } : state;
}

function switchStep(fc: FlowCompiler, step: SwitchStep, path: Path, state: FlowState): Result {
  const at = [...path, 'switch'];
  const on = fc.values.expression([...at, 'on'], step.switch.on, fc.env(state, info(fc, step)));
  const comparable = on && ['string', 'int', 'double', 'bool', 'dyn'].includes(on.shape as string);
  if (on && !comparable) {
    fc.error(
      [...at, 'on'],
      'bad-switch',
      `switch compares text, numbers or true/false, but this gives ${describeShape(on.shape)}`,
    );
  }
  const seen = new Map<string, number>();
  const cases: SwitchCaseIR[] = [];
  const states: FlowState[] = [];
  step.switch.cases.forEach((c, i) => {
    const values = Array.isArray(c.is) ? c.is : [c.is];
    values.forEach((value, j) => {
      const where = Array.isArray(c.is) ? [...at, 'cases', i, 'is', j] : [...at, 'cases', i, 'is'];
      const key = JSON.stringify(value);
      if (on && comparable && !fitsInputShape(value, on.shape)) {
        fc.error(
          where,
          'bad-case',
          `case value ${key} can never equal '${step.switch.on}', which gives ${describeShape(on.shape)}`,
        );
      } else if (seen.has(key)) {
        fc.error(
          where,
          'duplicate-case',
          `case value ${key} is already handled by case ${(seen.get(key) as number) + 1}`,
        );
      }
      seen.set(key, i);
    });
    const branch = fc.list(c.then, [...at, 'cases', i, 'then'], cloneState(state));
    cases.push({ is: values, then: branch.ir });
    states.push(branch.state);
  });
  const fallback = step.switch.default
    ? fc.list(step.switch.default, [...at, 'default'], cloneState(state))
    : { ir: [], state };
  states.push(fallback.state);
  const merged = endedWithin(step.id, mergeStates(states));
  if (!on) return { state: merged };
  return {
    ir: {
      kind: 'switch',
      id: step.id,
      title: step.title ?? step.id,
      on: on.canonical,
      cases,
      default: fallback.ir,
    },
    state: merged,
  };
}

function setStep(fc: FlowCompiler, step: SetStep, path: Path, state: FlowState): Result {
  const names = new Set(Object.keys(step.set));
  const values: Record<string, ValueIR> = {};
  for (const [name, raw] of Object.entries(step.set)) {
    const env = fc.env(state, info(fc, step), { names, current: name });
    const compiled = fc.values.value([...path, 'set', name], raw, env, `vars.${name}`);
    if (!compiled) continue;
    fc.declareVar(name, compiled.shape, step.id, [...path, 'set', name]);
    values[name] = compiled.ir;
  }
  const after = { ...cloneState(state), set: new Set([...state.set, ...names]) };
  if (Object.keys(values).length !== names.size) return { state: after };
  return { ir: { kind: 'set', id: step.id, title: step.title ?? step.id, values }, state: after };
}

function waitStep(fc: FlowCompiler, step: WaitStep, path: Path, state: FlowState): Result {
  const base = { kind: 'wait' as const, id: step.id, title: step.title ?? step.id };
  if (step.wait.for !== undefined) return { ir: { ...base, forMs: ms(step.wait.for) ?? 0 }, state };
  const at = [...path, 'wait', 'until'];
  const until = fc.values.value(at, step.wait.until, fc.env(state, info(fc, step)), 'until');
  if (!until) return { state };
  if (!['timestamp', 'string', 'dyn'].includes(until.shape as string)) {
    fc.error(
      at,
      'bad-wait',
      `until needs a timestamp, but this gives ${describeShape(until.shape)}`,
    );
    return { state };
  }
  return { ir: { ...base, until: until.ir }, state };
}

function notify(fc: FlowCompiler, step: NotifyStep, path: Path, state: FlowState): Result {
  const at = [...path, 'notify'];
  const n = step.notify;
  const env = fc.env(state, info(fc, step));
  let ok = true;
  const channels = [
    LOG_CHANNEL,
    ...[...fc.defs.connectors].filter(([, c]) => isNotifier(c.doc.type)).map(([name]) => name),
  ];
  const connector = fc.defs.connectors.get(n.channel);
  if (n.channel !== LOG_CHANNEL && !(connector && isNotifier(connector.doc.type))) {
    const what = connector
      ? `connector '${n.channel}' (type ${connector.doc.type}) does not send notifications`
      : `no channel '${n.channel}'`;
    fc.error(
      [...at, 'channel'],
      'unknown-channel',
      `${what}; channels are ${listNames(channels)}${didYouMean(n.channel, channels)}`,
    );
    ok = false;
  }
  const to = fc.values.value([...at, 'to'], n.to, env, 'to');
  if (
    to &&
    !(
      to.shape === 'string' ||
      to.shape === 'dyn' ||
      (isListShape(to.shape) && ['string', 'dyn'].includes(to.shape.list as string))
    )
  ) {
    fc.error(
      [...at, 'to'],
      'bad-recipient',
      `recipients must be text or a list of text, but this gives ${describeShape(to.shape)}`,
    );
    ok = false;
  }
  const data = fc.values.value([...at, 'data'], n.data ?? {}, env, 'data');
  const template = fc.defs.templates.get(n.template);
  if (!template && isBroken(fc.defs, 'Template', n.template)) {
    ok = false;
  } else if (!template) {
    const names = [...fc.defs.templates.keys()];
    fc.error(
      [...at, 'template'],
      'unknown-template',
      `no template named '${n.template}'${suggest(n.template, names, 'templates')}`,
    );
    ok = false;
  } else {
    if (template.repaired) fc.dependsOnRepaired = true;
    for (const name of placeholdersOf(template.doc)) {
      if (!(n.data && name in n.data)) {
        fc.error(
          [...at, 'template'],
          'missing-template-data',
          `template '${n.template}' uses {{${name}}}, which this step does not give: add data.${name}`,
        );
        ok = false;
      }
    }
  }
  const attachments: Array<{ filename: string; rows: ValueIR }> = [];
  for (const [i, a] of (n.attachments ?? []).entries()) {
    const where = [...at, 'attachments', i];
    if (connector && connector.doc.type !== 'email') {
      fc.error(
        where,
        'attachment-channel',
        `attachments go by email only; channel '${n.channel}' is of type ${connector.doc.type}`,
      );
      ok = false;
      continue;
    }
    if (!connector) continue; // the channel error above says it
    const rows = fc.values.value([...where, 'rows'], a.rows, env, 'rows');
    if (rows && !(rows.shape === 'dyn' || isListShape(rows.shape))) {
      fc.error(
        [...where, 'rows'],
        'bad-attachment',
        `rows must be a list of maps, one per CSV row, but this gives ${describeShape(rows.shape)}`,
      );
      ok = false;
    } else if (rows) attachments.push({ filename: a.filename, rows: rows.ir });
    else ok = false;
  }
  if (!ok || !to || !data || !template) return { state };
  const t = template.doc;
  return {
    ir: {
      kind: 'notify',
      id: step.id,
      title: step.title ?? step.id,
      channel: n.channel,
      channelType: connector ? connector.doc.type : LOG_CHANNEL,
      to: to.ir,
      template: {
        name: t.metadata.name,
        text: t.text,
        ...(t.subject ? { subject: t.subject } : {}),
        ...(t.html ? { html: t.html } : {}),
      },
      data: data.ir,
      ...(attachments.length ? { attachments } : {}),
      ...(connector
        ? (() => {
            const spec = connectorType(connector.doc.type);
            return spec
              ? {
                  timeoutMs: ms(connector.doc.timeout) ?? spec.defaults.timeoutMs,
                  retry: retryOf(spec.defaults.retry, connector.doc.retry),
                }
              : {};
          })()
        : {}),
    },
    state,
  };
}

function isNotifier(type: string): boolean {
  return connectorType(type)?.notifies === true;
}

function fail(fc: FlowCompiler, step: FailStep, path: Path, state: FlowState): Result {
  const ended = { ...cloneState(state), endedBy: step.id };
  const reason = fc.values.value(
    [...path, 'fail', 'reason'],
    step.fail.reason,
    fc.env(state, info(fc, step)),
    'reason',
  );
  if (!reason) return { state: ended };
  return {
    ir: {
      kind: 'fail',
      id: step.id,
      title: step.title ?? step.id,
      reason: reason.ir,
      code: step.fail.code ?? 'FlowFailed',
    },
    state: ended,
  };
}

export function compileStep(fc: FlowCompiler, step: Step, path: Path, state: FlowState): Result {
  const kind = stepKind(step);
  switch (kind) {
    case 'action':
      return action(fc, step as ActionStep, path, state);
    case 'if':
      return ifStep(fc, step as IfStep, path, state);
    case 'switch':
      return switchStep(fc, step as SwitchStep, path, state);
    case 'parallel':
      return compileParallel(fc, step as ParallelStep, path, state);
    case 'set':
      return setStep(fc, step as SetStep, path, state);
    case 'wait':
      return waitStep(fc, step as WaitStep, path, state);
    case 'notify':
      return notify(fc, step as NotifyStep, path, state);
    case 'fail':
      return fail(fc, step as FailStep, path, state);
    case 'approval':
      return compileApproval(fc, step as ApprovalStep, path, state, info(fc, step));
    case 'reconcile':
      return compileReconcile(fc, step as ReconcileStep, path, state, info(fc, step));
    case 'correlate':
      return compileCorrelate(fc, step as CorrelateStep, path, state, info(fc, step));
    case 'forEach':
      return compileForEach(fc, step as ForEachStep, path, state, info(fc, step));
    default: {
      const never: never = kind;
      throw new Error(`unhandled step kind ${String(never)}`);
    }
  }
}
