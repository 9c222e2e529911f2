/**
 * What the chaos benchmark checks once the load has drained: each joiner's audit rows against
 * a joiner run before any kill, and the targets' own state (directory entries, SCIM users,
 * the manager's mail) counted per person, so a lost or doubled side effect names its person.
 */
import { and, eq, gt, inArray, min, sql } from 'drizzle-orm';
import type { Database } from '../src/db/client';
import { auditLog, events } from '../src/db/schema';
import type { Targets } from '../src/targets';
import { directoryReader } from '../test/support/directory';

/** Audit rows per action, of one run. */
export type AuditProfile = Map<string, number>;

/** A check's verdict, one line in the report. */
export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/** Rows with outcome `ok` per run and action, for the given runs. */
export async function auditProfiles(
  db: Database,
  runIds: string[],
): Promise<Map<string, AuditProfile>> {
  const profiles = new Map<string, AuditProfile>(runIds.map((id) => [id, new Map()]));
  for (let i = 0; i < runIds.length; i += 500) {
    const rows = await db
      .select({ runId: auditLog.runId, action: auditLog.action, count: sql<number>`count(*)::int` })
      .from(auditLog)
      .where(and(inArray(auditLog.runId, runIds.slice(i, i + 500)), eq(auditLog.outcome, 'ok')))
      .groupBy(auditLog.runId, auditLog.action);
    for (const row of rows) profiles.get(row.runId ?? '')?.set(row.action, row.count);
  }
  return profiles;
}

/** Rows of the given runs whose outcome is not `ok` (failed attempts, flagged budgets), by action and outcome. */
export async function otherOutcomes(db: Database, runIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < runIds.length; i += 500) {
    const rows = await db
      .select({
        action: auditLog.action,
        outcome: auditLog.outcome,
        count: sql<number>`count(*)::int`,
      })
      .from(auditLog)
      .where(
        and(inArray(auditLog.runId, runIds.slice(i, i + 500)), sql`${auditLog.outcome} <> 'ok'`),
      )
      .groupBy(auditLog.action, auditLog.outcome);
    for (const r of rows) {
      const key = `${r.action} (${r.outcome})`;
      out.set(key, (out.get(key) ?? 0) + r.count);
    }
  }
  return out;
}

/** When each run's `run.completed` row was written (the run's last activity). */
export async function completionTimes(db: Database, runIds: string[]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  for (let i = 0; i < runIds.length; i += 500) {
    const rows = await db
      .select({ runId: auditLog.runId, at: auditLog.at })
      .from(auditLog)
      .where(
        and(
          inArray(auditLog.runId, runIds.slice(i, i + 500)),
          eq(auditLog.action, 'run.completed'),
        ),
      );
    for (const r of rows) if (r.runId) out.set(r.runId, r.at);
  }
  return out;
}

/** When the first run completed after `after` (its `run.completed` row), if one has. */
export async function firstCompletionAfter(db: Database, after: Date): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: min(auditLog.at) })
    .from(auditLog)
    .where(and(eq(auditLog.action, 'run.completed'), gt(auditLog.at, after)));
  return row?.at ?? undefined;
}

/** Every run's audit profile against the expected one: per action, rows found against runs × expected. */
export function compareAudit(
  expected: AuditProfile,
  profiles: Map<string, AuditProfile>,
): { checks: Check[]; totals: Map<string, number> } {
  const actions = new Set(expected.keys());
  for (const p of profiles.values()) for (const a of p.keys()) actions.add(a);
  const totals = new Map<string, number>();
  const checks: Check[] = [];
  for (const action of [...actions].sort()) {
    const want = expected.get(action) ?? 0;
    const off: string[] = [];
    let total = 0;
    for (const [runId, p] of profiles) {
      const got = p.get(action) ?? 0;
      total += got;
      if (got !== want) off.push(`${runId}: ${got}`);
    }
    totals.set(action, total);
    checks.push({
      name: `audit ${action}`,
      pass: off.length === 0,
      detail:
        `${total} rows, expected ${want * profiles.size} (${want} per run)` +
        (off.length ? `; off: ${off.slice(0, 10).join(', ')}${off.length > 10 ? ', …' : ''}` : ''),
    });
  }
  return { checks, totals };
}

/** People whose count is not exactly one, as `person: count`. */
function notOnce(counts: Map<string, number>, people: string[]): string[] {
  return people.filter((p) => counts.get(p) !== 1).map((p) => `${p}: ${counts.get(p) ?? 0}`);
}

function check(name: string, counts: Map<string, number>, people: string[]): Check {
  const off = notOnce(counts, people);
  const total = people.reduce((sum, p) => sum + (counts.get(p) ?? 0), 0);
  const missing = people.filter((p) => !counts.get(p)).length;
  return {
    name,
    pass: off.length === 0,
    detail:
      `${total} for ${people.length} joiners` +
      (off.length
        ? ` (${missing} with none, ${off.length - missing} with more than one); ${off.slice(0, 10).join(', ')}${off.length > 10 ? ', …' : ''}`
        : ''),
  };
}

/** Directory entries per person (by the owner attribute, employeeNumber). */
export async function ldapEntries(targets: Targets, people: string[]): Promise<Check> {
  const directory = directoryReader(() => targets);
  const counts = new Map<string, number>();
  for (const p of people) counts.set(p, (await directory.entriesOf(p)).length);
  return check('LDAP entries', counts, people);
}

/** SCIM users per person (by the owner attribute, externalId). */
export function scimUsers(targets: Targets, people: string[]): Check {
  const counts = new Map<string, number>();
  for (const user of targets.scim.users.values()) {
    const owner = String(user.externalId);
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return check('SCIM users', counts, people);
}

/**
 * Welcome mails to the manager per person (the template's subject starts with the person's
 * name), counted as messages: deliveries with the same Message-ID are one message sent again (a
 * retry after an attempt cut off between the SMTP server's acceptance and idflow's record of
 * it), which mail systems and readers show once; the check says how many there were.
 */
export function welcomeMails(
  targets: Targets,
  manager: string,
  people: Array<{ id: string; displayName: string }>,
): Check {
  const byName = new Map(people.map((p) => [`${p.displayName} starts on`, p.id]));
  const messages = new Map<string, Set<string>>();
  let deliveries = 0;
  for (const [i, mail] of targets.smtp.messages.entries()) {
    if (!mail.to.includes(manager)) continue;
    const id = byName.get(mail.subject.replace(/ starts on .*$/s, ' starts on'));
    if (!id) continue;
    deliveries += 1;
    const seen = messages.get(id) ?? new Set<string>();
    seen.add(mail.messageId ?? `(no Message-ID) #${i}`);
    messages.set(id, seen);
  }
  const counts = new Map([...messages].map(([id, ids]) => [id, ids.size]));
  const result = check(
    'welcome mails',
    counts,
    people.map((p) => p.id),
  );
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return deliveries > total
    ? {
        ...result,
        detail: `${result.detail}; ${deliveries - total} sent again with the same Message-ID`,
      }
    : result;
}

/** The events table: each offered event stored once, decided, with exactly its one run. */
export async function storedEvents(
  db: Database,
  source: string,
  expected: Map<string, string>,
): Promise<Check> {
  const rows = await db
    .select({ id: events.id, runs: events.runs, decidedAt: events.decidedAt })
    .from(events)
    .where(and(eq(events.source, source), inArray(events.id, [...expected.keys()])));
  const off: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.id);
    const runs = ((row.runs as Array<{ workflowId?: string }> | null) ?? []).map(
      (r) => r.workflowId,
    );
    if (!row.decidedAt || runs.length !== 1 || runs[0] !== expected.get(row.id))
      off.push(`${row.id}: runs ${JSON.stringify(runs)}${row.decidedAt ? '' : ', undecided'}`);
  }
  for (const id of expected.keys()) if (!seen.has(id)) off.push(`${id}: not stored`);
  return {
    name: 'events stored and dispatched',
    pass: off.length === 0,
    detail:
      `${rows.length} rows for ${expected.size} events` +
      (off.length ? `; off: ${off.slice(0, 10).join(', ')}` : ''),
  };
}
