/**
 * Holds end to end, against slapd, PostgreSQL and Temporal through the reference definitions: a
 * person with the staff birthright whose directory account is held stays disabled in the
 * directory through a reconcile and through a mover (whose groups still follow the new
 * position), is shown as held by `GET /v1/persons/{id}` and its plan, and is enabled with its
 * groups by the reconcile of the reference `account-release` flow. The hold and its release are
 * audited with ids only, and the lifted hold stays on record.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { AccessPlan } from '../../src/access/types';
import { accountsOf } from '../../src/db/repos/access';
import { accountHolds, auditLog } from '../../src/db/schema';
import type { PersonAccessView } from '../../src/gateway/services/persons';
import type { RunState } from '../../src/temporal/contracts';
import type { Targets } from '../../src/targets';
import { directoryReader } from '../support/directory';
import { Harness, makeEvent } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

let targets: Targets;
let h: Harness;

/** A reason no audit row may carry: the hold's free text stays in its own row. */
const REASON = 'dormant-ticket-7731';

/** Test flows beside the reference set: place a hold, and reconcile alone. */
const EXTRA = `
apiVersion: idflow/v1
kind: Policy
metadata: { name: it-holds }
rules:
  - { on: [it.hold], run: [it-hold] }
  - { on: [it.reconcile], run: [it-reconcile] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-hold }
inputs:
  reason: { type: string, required: true }
steps:
  - id: hold
    action:
      connector: identity-store
      op: holdAccount
      args:
        personId: \${subject.id}
        connector: corp-directory
        reason: \${event.attributes.reason}
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-reconcile }
steps:
  - id: access
    reconcile: {}
`;

const FLOWS: Record<string, string> = {
  'person.joiner': 'joiner-standard',
  'person.mover': 'mover-standard',
  'account.release-requested': 'account-release',
};

beforeAll(async () => {
  const world = await referenceWorld('account-holds', { holds: EXTRA });
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

async function send(
  type: string,
  subject: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const event = makeEvent(type, subject, {
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const name = FLOWS[type] ?? type.replace('it.', 'it-');
  const runId = `flow/${name}/${subject.id as string}/${event.id as string}`;
  const outcome = await h.runOutcome(runId, 90_000);
  expect(outcome).toMatchObject({ ok: true });
  const state = await h.client.workflow.getHandle(runId).query<RunState>('state');
  return { runId, output: (step: string) => state.steps.find((s) => s.id === step)?.output };
}

const { entriesOf, groupsOf } = directoryReader(() => targets);

const hana = {
  id: 'p-hold-1',
  givenName: 'Hana',
  familyName: 'Holder',
  email: 'hana@example.com',
  department: 'Engineering',
  title: 'Engineer',
  employmentType: 'employee',
};

test('a held account stays disabled in the directory through a reconcile and a mover, and the reconcile after a release enables it with its groups', async () => {
  await send('person.joiner', hana);
  const [entry] = await entriesOf(hana.id);
  expect(entry).toEqual({ uid: 'hholder', enabled: true });
  const engineering = ['all-staff', 'deployers', 'engineering', 'vpn-users'];
  expect(await groupsOf('hholder')).toEqual(engineering);

  // the hold: recorded, idflow's record says disabled; the directory is reconcile's to change
  const held = await send('it.hold', { id: hana.id }, { attributes: { reason: REASON } });
  const { holdId, changed } = held.output('hold') as { holdId: string; changed: boolean };
  expect(changed).toBe(true);
  expect((await accountsOf(h.db.db, hana.id))[0]?.status).toBe('disabled');
  const again = await send('it.hold', { id: hana.id }, { attributes: { reason: REASON } });
  expect(again.output('hold')).toEqual({ holdId, changed: false });

  // a reconcile disables it, whatever the staff birthright says, and leaves its groups
  const reconcile = await send('it.reconcile', { id: hana.id });
  expect(await entriesOf(hana.id)).toEqual([{ uid: 'hholder', enabled: false }]);
  expect(await groupsOf('hholder')).toEqual(engineering);
  expect(reconcile.output('access')).toMatchObject({
    removed: 1,
    added: 0,
    plan: {
      removals: ['corp-directory: disable account (hholder)'],
      holds: [`corp-directory: held (hold ${holdId}) (hholder)`],
    },
  });

  // a mover: the groups follow the new position on the disabled account; it stays disabled
  await send('person.mover', { id: hana.id, department: 'Finance', title: 'Analyst' });
  expect(await entriesOf(hana.id)).toEqual([{ uid: 'hholder', enabled: false }]);
  expect(await groupsOf('hholder')).toEqual(['all-staff', 'finance', 'vpn-users']);

  // what people are shown: the account held, with the reason and who placed the hold
  const view = await h.request<PersonAccessView>('GET', `/v1/persons/${hana.id}`);
  expect(view.status).toBe(200);
  expect(view.body.holds).toEqual([
    expect.objectContaining({ id: holdId, connector: 'corp-directory', reason: REASON }),
  ]);
  expect(view.body.holds[0]?.placedBy).toMatch(/^run:flow\/it-hold\//);
  const preview = await h.request<AccessPlan>('GET', `/v1/persons/${hana.id}/plan`);
  expect(preview.status).toBe(200);
  expect(preview.body.holds).toEqual([
    expect.objectContaining({ id: holdId, reason: REASON, account: 'hholder' }),
  ]);
  expect([...preview.body.removals, ...preview.body.additions]).toEqual([]);

  // released by the reference flow: its reconcile enables the account, the groups all there
  const release = await send(
    'account.release-requested',
    { id: hana.id },
    { attributes: { connector: 'corp-directory', reason: REASON } },
  );
  expect(release.output('release-reason')).toEqual({ released: 1 });
  expect(release.output('access')).toMatchObject({
    added: 1,
    removed: 0,
    plan: { additions: ['corp-directory: enable account (hholder)'], holds: [] },
  });
  expect(await entriesOf(hana.id)).toEqual([{ uid: 'hholder', enabled: true }]);
  expect(await groupsOf('hholder')).toEqual(['all-staff', 'finance', 'vpn-users']);
  expect((await accountsOf(h.db.db, hana.id))[0]?.status).toBe('enabled');

  // the hold stays on record, lifted by the release's run
  const rows = await h.db.db.select().from(accountHolds).where(eq(accountHolds.personId, hana.id));
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ id: holdId, reason: REASON, liftedBy: `run:${release.runId}` });
  expect(rows[0]?.liftedAt).toBeInstanceOf(Date);

  // audited with ids only: the hold's id, the connector, the step; never the reason or a name
  const audit = await h.db.db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.target, `person:${hana.id}`),
        inArray(auditLog.action, ['account.hold', 'account.release']),
      ),
    )
    .orderBy(auditLog.seq);
  expect(audit.map((r) => [r.action, r.outcome])).toEqual([
    ['account.hold', 'ok'],
    ['account.hold', 'unchanged'],
    ['account.release', 'ok'],
  ]);
  expect(audit.map((r) => r.detail)).toEqual([
    { step: 'hold', connector: 'corp-directory', holdId, recordedDisabled: true },
    { step: 'hold', connector: 'corp-directory', holdId, recordedDisabled: false },
    {
      step: 'release-reason',
      connector: 'corp-directory',
      holdIds: [holdId],
      released: 1,
    },
  ]);
  const plans = await h.db.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.target, `person:${hana.id}`), eq(auditLog.action, 'access.plan')));
  for (const row of [...audit, ...plans]) {
    const text = JSON.stringify(row.detail);
    for (const personal of [REASON, 'Hana', 'Holder', 'hana@example.com'])
      expect(text).not.toContain(personal);
  }
}, 240_000);

test('a release with nothing held lifts nothing and changes nothing', async () => {
  const before = await entriesOf(hana.id);
  const release = await send(
    'account.release-requested',
    { id: hana.id },
    { attributes: { connector: 'corp-directory' } },
  );
  expect(release.output('release-all')).toEqual({ released: 0 });
  expect(release.output('access')).toMatchObject({ added: 0, removed: 0 });
  expect(await entriesOf(hana.id)).toEqual(before);
}, 120_000);
