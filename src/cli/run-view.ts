/**
 * How `idflow runs list`, `runs show` and `persons history` print: aligned tables a person reads
 * top to bottom, and for a waiting run one line saying what it waits on and until when
 * (`--json` prints the data instead).
 */
import type { PersonHistory } from '../runs/history';
import type { RunPage } from '../runs/list';
import type { RunView, StepView, WaitView } from '../runs/view';
import { table } from './access-view';

const iso = (s: string | undefined) => (s ? s.replace(/\.\d{3}Z$/, 'Z') : '-');

/** 1.2s, 340ms, 3m05s. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** "waiting on approval by m-1 at step 'ask' until 2026-…": what the run waits on, in one line. */
export function waitLine(w: WaitView): string {
  const until = w.until ? ` until ${iso(w.until)}` : '';
  const since = !w.until && w.since ? ` since ${iso(w.since)}` : '';
  return `waiting on ${w.what} at step '${w.step}'${until}${since}`;
}

function errorText(e: StepView['error']): string {
  if (!e) return '';
  return `${e.type}: ${e.message}${e.attempts ? ` (${e.attempts} attempts)` : ''}`;
}

export function renderRunPage(page: RunPage): string {
  if (page.runs.length === 0) return 'no runs match';
  return table(
    ['WORKFLOW ID', 'FLOW', 'PERSON', 'EVENT', 'STATUS', 'STARTED', 'CLOSED'],
    page.runs.map((r) => [
      r.workflowId,
      r.flow,
      r.person ?? '-',
      r.eventType ?? '-',
      r.overBudget ? `${r.status}, over budget` : r.status,
      iso(r.startedAt),
      iso(r.closedAt),
    ]),
    '',
  );
}

export function renderRun(view: RunView): string {
  const out = [view.workflowId];
  out.push(
    `  ${[
      `flow ${view.flow}`,
      view.person && `person ${view.person}`,
      view.eventType && `event ${view.eventType}`,
      `status ${view.status}${view.overBudget ? ' (over budget)' : ''}`,
    ]
      .filter(Boolean)
      .join(' · ')}`,
  );
  out.push(
    `  definition ${view.definitionHash ?? '-'} · started ${iso(view.startedAt)} · closed ${iso(view.closedAt)}`,
  );
  if (view.summary) out.push(`  ${view.summary}`);
  if (view.automatedMs !== undefined)
    out.push(
      `  automated time ${duration(view.automatedMs)}${view.budgetMs !== undefined ? ` of a ${duration(view.budgetMs)} budget` : ''}`,
    );
  const waits = view.waiting ?? (view.waitingOn ? [view.waitingOn] : []);
  for (const w of waits) {
    out.push(`  ${waitLine(w)}`);
    if (w.error) out.push(`    ${errorText(w.error)}`);
  }
  if (view.source === 'description') {
    out.push(
      '\n  (the run does not answer queries now — closed, and no worker replays it — so its steps are not shown)',
    );
    return out.join('\n');
  }
  out.push('\nSteps');
  out.push(
    view.steps.length
      ? table(
          ['STEP', 'KIND', 'STATUS', 'STARTED', 'TOOK', 'ERROR'],
          view.steps.map((s) => [
            s.branch ? `${s.branch}/${s.id}` : s.id,
            s.kind,
            s.status,
            iso(s.startedAt),
            duration(s.durationMs),
            errorText(s.error),
          ]),
        )
      : '  none yet',
  );
  if (view.approvals.length) {
    out.push('\nApprovals');
    out.push(
      table(
        ['STEP', 'STATUS', 'ASKED', 'DECIDED BY', 'DEADLINE'],
        view.approvals.map((a) => [
          a.step,
          a.status,
          a.approvers.map((p) => p.id).join(', ') || '-',
          a.decisions
            .map(
              (d) =>
                `${d.by}${d.by !== d.onBehalfOf ? ` for ${d.onBehalfOf}` : ''} ${d.decision} (${d.channel})`,
            )
            .join('; ') || '-',
          iso(a.deadline),
        ]),
      ),
    );
  }
  return out.join('\n');
}

export function renderHistory(h: PersonHistory): string {
  if (h.entries.length === 0) return `${h.personId}: no events, runs or audit rows`;
  const rows = h.entries.map((e) => {
    switch (e.kind) {
      case 'event':
        return [
          iso(e.at),
          'event',
          `${e.type} ${e.source}/${e.id}`,
          e.runs === undefined
            ? 'not decided yet'
            : e.startedNothing
              ? 'no rule started a flow'
              : `started ${e.runs.length} run${e.runs.length === 1 ? '' : 's'} (${e.matched.map((m) => `${m.policy}/${m.rule}`).join(', ')})`,
        ];
      case 'run':
        return [iso(e.at), 'run', `${e.flow} ${e.workflowId}`, e.outcome];
      case 'audit':
        return [iso(e.at), 'audit', `${e.action} by ${e.actor}`, e.outcome];
      default: {
        const never: never = e;
        return never;
      }
    }
  });
  const more = h.truncated ? `\n(older ${h.truncated.join(', ')} left out)` : '';
  return `${h.personId}\n${table(['AT', 'WHAT', 'WHICH', 'OUTCOME'], rows)}${more}`;
}
