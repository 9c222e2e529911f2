/**
 * The `approval` step: who decides (expressions giving person ids, groups, roles), the request
 * shown to them, reminders, an escalation chain and a timeout, in calendar or business time.
 * A SoD rule with `action: approval` asks the same; `approvalIR` compiles either.
 */
import { connectorType, LOG_CHANNEL } from '../../connectors/registry';
import { businessDurationMs, isTimeZone, type BusinessCalendar } from '../business-time';
import { didYouMean, listNames, type Path } from '../diagnostics';
import { parseDuration } from '../duration';
import type { ApprovalStepIR, ApproverIR } from '../ir';
import { describeShape, isListShape } from '../shapes';
import type { ApprovalBody, ApprovalStep } from '../schema';
import type { SourceDocument } from '../source';
import type { FlowCompiler, FlowState } from './flow';
import type { Definitions, Reporter } from './report';
import type { ExprEnv, StepInfo, ValueCompiler } from './values';

type ApproverRef = ApprovalBody['approvers'][number];

/** What compiling an approval needs: where it is written, the definitions, what it may read. */
export interface ApprovalContext {
  report: Reporter;
  sd: SourceDocument;
  values: ValueCompiler;
  defs: Definitions;
  env: ExprEnv;
}

function approvers(
  ctx: ApprovalContext,
  refs: ApproverRef[],
  path: Path,
): ApproverIR[] | undefined {
  const out: ApproverIR[] = [];
  let ok = true;
  refs.forEach((ref, i) => {
    if (typeof ref !== 'string') {
      out.push(ref);
      return;
    }
    const checked = ctx.values.expression([...path, i], ref, ctx.env);
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
      ctx.report.error(
        ctx.sd,
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

function calendarOf(a: ApprovalBody): BusinessCalendar | undefined {
  const b = a.businessHours;
  if (!b) return undefined;
  return {
    timezone: b.timezone,
    days: b.days ?? ['mon', 'tue', 'wed', 'thu', 'fri'],
    from: b.from ?? '09:00',
    to: b.to ?? '17:00',
    holidays: b.holidays ?? [],
  };
}

/**
 * The approval written at `at` (an approval step's `approval:`, a SoD rule's `approval:`), or
 * undefined when it has problems, which are reported.
 */
export function approvalIR(
  ctx: ApprovalContext,
  a: ApprovalBody,
  at: Path,
  base: { id: string; title: string },
): ApprovalStepIR | undefined {
  const error = (path: Path, code: string, message: string) =>
    ctx.report.error(ctx.sd, path, code, message);
  const { value: ir, clean } = ctx.report.clean((): ApprovalStepIR | undefined => {
    const calendar = calendarOf(a);
    if (calendar) {
      if (!isTimeZone(calendar.timezone)) {
        error(
          [...at, 'businessHours', 'timezone'],
          'bad-calendar',
          `unknown time zone '${calendar.timezone}'; use an IANA name like Europe/Berlin`,
        );
      }
      if (calendar.from >= calendar.to) {
        error(
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
      error(
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
        error(
          [...at, 'escalate', i, 'after'],
          'bad-escalation',
          `escalation levels must come one after another: ${level.after} is not later than the level before (${previousText})`,
        );
      } else if (afterMs >= timeoutMs) {
        error(
          [...at, 'escalate', i, 'after'],
          'bad-escalation',
          `this escalation at ${level.after} comes at or after the timeout of ${a.timeout}, so it never happens`,
        );
      }
      previous = afterMs;
      previousText = level.after;
    });
    const channel = a.notify?.channel ?? LOG_CHANNEL;
    const connector = ctx.defs.connectors.get(channel);
    if (channel !== LOG_CHANNEL && !(connector && connectorType(connector.doc.type)?.notifies)) {
      const channels = [
        LOG_CHANNEL,
        ...[...ctx.defs.connectors]
          .filter(([, c]) => connectorType(c.doc.type)?.notifies)
          .map(([n]) => n),
      ];
      error(
        [...at, 'notify', 'channel'],
        'unknown-channel',
        `no channel '${channel}'; channels are ${listNames(channels)}${didYouMean(channel, channels)}`,
      );
    }
    const first = approvers(ctx, a.approvers, [...at, 'approvers']);
    const levels = (a.escalate ?? []).map((level, i) =>
      approvers(ctx, level.to, [...at, 'escalate', i, 'to']),
    );
    const request = ctx.values.value([...at, 'request'], a.request, ctx.env, 'request');
    const access =
      a.access === undefined
        ? undefined
        : ctx.values.value([...at, 'access'], a.access, ctx.env, 'access');
    if (!first || levels.some((l) => !l) || !request || (a.access !== undefined && !access))
      return undefined;
    return {
      kind: 'approval',
      id: base.id,
      title: base.title,
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
  return clean ? ir : undefined;
}

export function compileApproval(
  fc: FlowCompiler,
  step: ApprovalStep,
  path: Path,
  state: FlowState,
  info: StepInfo,
): { ir?: ApprovalStepIR; state: FlowState } {
  const after: FlowState = { done: new Set([...state.done, step.id]), set: new Set(state.set) };
  const ctx = {
    report: fc.report,
    sd: fc.sd,
    values: fc.values,
    defs: fc.defs,
    env: fc.env(state, info),
  };
  const ir = approvalIR(ctx, step.approval, [...path, 'approval'], {
    id: step.id,
    title: step.title ?? step.id,
  });
  return ir ? { ir, state: after } : { state: after };
}
