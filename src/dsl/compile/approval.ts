/**
 * The `approval` step: who decides (expressions giving person ids, groups, roles), the request
 * shown to them, reminders, an escalation chain and a timeout, in calendar or business time.
 */
import { connectorType, LOG_CHANNEL } from '../../connectors/registry';
import { businessDurationMs, isTimeZone, type BusinessCalendar } from '../business-time';
import { didYouMean, listNames, type Path } from '../diagnostics';
import { parseDuration } from '../duration';
import type { ApprovalStepIR, ApproverIR } from '../ir';
import { describeShape, isListShape } from '../shapes';
import type { ApprovalStep } from '../schema';
import type { FlowCompiler, FlowState } from './flow';
import type { ExprEnv, StepInfo } from './values';

type ApproverRef = ApprovalStep['approval']['approvers'][number];

function approvers(
  fc: FlowCompiler,
  refs: ApproverRef[],
  path: Path,
  env: ExprEnv,
): ApproverIR[] | undefined {
  const out: ApproverIR[] = [];
  let ok = true;
  refs.forEach((ref, i) => {
    if (typeof ref !== 'string') {
      out.push(ref);
      return;
    }
    const checked = fc.values.expression([...path, i], ref, env);
    if (!checked) {
      ok = false;
      return;
    }
    const shape = checked.shape;
    const fits =
      shape === 'string' ||
      shape === 'dyn' ||
      (isListShape(shape) && (shape.list === 'string' || shape.list === 'dyn'));
    if (!fits) {
      fc.error(
        [...path, i],
        'bad-approver',
        `an approver is a person id (text) or a list of them, but this gives ${describeShape(shape)}`,
      );
      ok = false;
      return;
    }
    out.push({ expr: checked.canonical });
  });
  return ok ? out : undefined;
}

function calendarOf(step: ApprovalStep): BusinessCalendar | undefined {
  const b = step.approval.businessHours;
  if (!b) return undefined;
  return {
    timezone: b.timezone,
    days: b.days ?? ['mon', 'tue', 'wed', 'thu', 'fri'],
    from: b.from ?? '09:00',
    to: b.to ?? '17:00',
    holidays: b.holidays ?? [],
  };
}

export function compileApproval(
  fc: FlowCompiler,
  step: ApprovalStep,
  path: Path,
  state: FlowState,
  info: StepInfo,
): { ir?: ApprovalStepIR; state: FlowState } {
  const at = [...path, 'approval'];
  const a = step.approval;
  const after: FlowState = { done: new Set([...state.done, step.id]), set: new Set(state.set) };
  const env = fc.env(state, info);
  const { value: ir, clean } = fc.report.clean((): ApprovalStepIR | undefined => {
    const calendar = calendarOf(step);
    if (calendar) {
      if (!isTimeZone(calendar.timezone)) {
        fc.error(
          [...at, 'businessHours', 'timezone'],
          'bad-calendar',
          `unknown time zone '${calendar.timezone}'; use an IANA name like Europe/Berlin`,
        );
      }
      if (calendar.from >= calendar.to) {
        fc.error(
          [...at, 'businessHours'],
          'bad-calendar',
          `working hours must start before they end (from ${calendar.from}, to ${calendar.to})`,
        );
      }
    }
    const ms = (text: string) =>
      (calendar && calendar.from < calendar.to
        ? businessDurationMs(text, calendar)
        : parseDuration(text)) ?? 0;
    const timeoutMs = ms(a.timeout);
    const remindEveryMs = a.remindEvery === undefined ? undefined : ms(a.remindEvery);
    if (remindEveryMs !== undefined && remindEveryMs >= timeoutMs) {
      fc.error(
        [...at, 'remindEvery'],
        'bad-reminder',
        `a reminder every ${a.remindEvery} never comes before the timeout of ${a.timeout}`,
      );
    }
    let previous = 0;
    let previousText = '';
    (a.escalate ?? []).forEach((level, i) => {
      const afterMs = ms(level.after);
      if (afterMs <= previous) {
        fc.error(
          [...at, 'escalate', i, 'after'],
          'bad-escalation',
          `escalation levels must come one after another: ${level.after} is not later than the level before (${previousText})`,
        );
      } else if (afterMs >= timeoutMs) {
        fc.error(
          [...at, 'escalate', i, 'after'],
          'bad-escalation',
          `this escalation at ${level.after} comes at or after the timeout of ${a.timeout}, so it never happens`,
        );
      }
      previous = afterMs;
      previousText = level.after;
    });
    const channel = a.notify?.channel ?? LOG_CHANNEL;
    const connector = fc.defs.connectors.get(channel);
    if (channel !== LOG_CHANNEL && !(connector && connectorType(connector.doc.type)?.notifies)) {
      const channels = [
        LOG_CHANNEL,
        ...[...fc.defs.connectors]
          .filter(([, c]) => connectorType(c.doc.type)?.notifies)
          .map(([n]) => n),
      ];
      fc.error(
        [...at, 'notify', 'channel'],
        'unknown-channel',
        `no channel '${channel}'; channels are ${listNames(channels)}${didYouMean(channel, channels)}`,
      );
    }
    const first = approvers(fc, a.approvers, [...at, 'approvers'], env);
    const levels = (a.escalate ?? []).map((level, i) =>
      approvers(fc, level.to, [...at, 'escalate', i, 'to'], env),
    );
    const request = fc.values.value([...at, 'request'], a.request, env, 'request');
    const access =
      a.access === undefined
        ? undefined
        : fc.values.value([...at, 'access'], a.access, env, 'access');
    if (!first || levels.some((l) => !l) || !request || (a.access !== undefined && !access))
      return undefined;
    return {
      kind: 'approval',
      id: step.id,
      title: step.title ?? step.id,
      approvers: first,
      mode: a.mode ?? 'any',
      request: request.ir,
      ...(access ? { access: access.ir } : {}),
      ...(remindEveryMs !== undefined ? { remindEveryMs } : {}),
      escalate: (a.escalate ?? []).map((level, i) => ({
        afterMs: ms(level.after),
        to: levels[i] as ApproverIR[],
      })),
      timeoutMs,
      onTimeout: a.onTimeout ?? 'reject',
      ...(calendar ? { businessHours: calendar } : {}),
      notifyChannel: channel,
      notifyChannelType: connector ? connector.doc.type : LOG_CHANNEL,
    };
  });
  return clean && ir ? { ir, state: after } : { state: after };
}
