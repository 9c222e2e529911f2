/**
 * Dry runs of events end to end, against slapd, the SCIM service, PostgreSQL and Temporal
 * through the reference definitions: `idflow plan event` on a mover prints the matched rule, the
 * flow and its version, and the reconcile's real plan (the old department's groups removed
 * before the new one's are added), and the directory, the SCIM application and the database are
 * as they were but for one audit row of the dry run. A joiner for a person not in the store
 * derives a username from the live directory; an event no rule matches starts nothing;
 * `POST /v1/plan` refuses a bad body naming the field, and a token without the `plan` scope.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { Client as LdapClient } from 'ldapts';
import type { DryRunResult, StepPlan } from '../../src/dryrun/types';
import { TokenService } from '../../src/gateway/services/tokens';
import type { Targets } from '../../src/targets';
import { LDAP_TARGET } from '../../src/targets/slapd';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

const run = promisify(execFile);

let targets: Targets;
let h: Harness;
let dataDir: string;

beforeAll(async () => {
  const world = await referenceWorld('dry-run');
  targets = world.targets;
  dataDir = world.dataDir;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

const sam = {
  id: 'p-dry-sam',
  givenName: 'Sam',
  familyName: 'Dryrun',
  email: 'sam.dryrun@example.com',
  department: 'Sales',
  title: 'Account Executive',
  employmentType: 'employee',
};

/** Every entry of the directory with every attribute, operational ones included (modifyTimestamp, entryCSN). */
async function directory(): Promise<unknown[]> {
  const client = new LdapClient({ url: targets.slapd?.url ?? '' });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(LDAP_TARGET.baseDn, {
      scope: 'sub',
      attributes: ['*', '+'],
    });
    // idflow's bind account records each bind (lastbind): the bind is not a change
    return searchEntries
      .filter((e) => e.dn !== LDAP_TARGET.bindDn)
      .map(({ contextCSN: _csn, ...e }) => e)
      .sort((a, b) => (a.dn < b.dn ? -1 : 1));
  } finally {
    await client.unbind();
  }
}

const TABLES = [
  'persons',
  'accounts',
  'entitlements',
  'access_grants',
  'account_holds',
  'events',
  'idempotency_keys',
  'approval_tasks',
  'reviews',
  'correlation_links',
  'orphan_accounts',
];

/** The database's rows, table by table, and the audit log without the dry runs' own rows. */
async function database(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of TABLES) {
    const rows = await h.db.db.execute(sql.raw(`select * from ${table} order by 1, 2`));
    out[table] = JSON.stringify(rows);
  }
  out.audit = JSON.stringify(
    await h.db.db.execute(sql`select * from audit_log where action <> 'plan.event' order by seq`),
  );
  return out;
}

async function world() {
  return {
    directory: JSON.stringify(await directory()),
    scim: JSON.stringify([...targets.scim.users.values(), ...targets.scim.groups.values()]),
    database: await database(),
  };
}

type PlanRow = { actor: string; target: string; detail: Record<string, unknown> };

async function planRows(): Promise<PlanRow[]> {
  const rows: unknown = await h.db.db.execute(
    sql`select actor, target, detail from audit_log where action = 'plan.event' order by seq`,
  );
  return rows as PlanRow[];
}

/** `idflow plan event <file>` against the test's deployment. */
async function planEvent(event: unknown, ...flags: string[]): Promise<string> {
  const file = join(dataDir, `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(event));
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'bin', 'idflow.js'), 'plan', 'event', file, ...flags],
    { env: h.env(), timeout: 90_000 },
  );
  return stdout;
}

const find = (steps: StepPlan[], id: string): StepPlan | undefined => {
  for (const s of steps) {
    if (s.id === id) return s;
    for (const b of s.branches ?? []) {
      const inner = find(b.steps, id);
      if (inner) return inner;
    }
  }
  return undefined;
};

test('a mover: the exact plan, read from the live targets, and nothing changed anywhere but one audit row', async () => {
  const joiner = makeEvent('person.joiner', sam, {
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
  });
  expect((await h.postEvent(joiner)).status).toBe(202);
  const joined = await h.runOutcome(
    `flow/joiner-standard/${sam.id}/${joiner.id as string}`,
    90_000,
  );
  expect(joined).toMatchObject({ ok: true });

  // the joiner's last records (its timeline's) may land just after its run: wait until still
  let before = await world();
  await h.eventually(async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await world();
    const still = JSON.stringify(now) === JSON.stringify(before);
    before = now;
    return still || undefined;
  });
  const mover = makeEvent(
    'person.mover',
    { id: sam.id, department: 'Engineering', title: 'Engineer' },
    { previous: { department: 'Sales' } },
  );
  const text = await planEvent(mover);
  const lines = text.split('\n');
  const at = (needle: string) => lines.findIndex((l) => l.includes(needle));

  expect(lines[0]).toBe(
    `Dry run of person.mover for ${sam.id} (event test-hr/${mover.id as string}) — a preview, nothing changed`,
  );
  expect(text).toContain('  match movers/everyone (priority 0) → mover-standard: no condition');
  expect(text).toMatch(/^Flow mover-standard \(Mover\) — version 1, hash sha256:[0-9a-f]{64}$/m);
  expect(text).toContain(`would start as flow/mover-standard/${sam.id}/${mover.id as string}`);
  expect(text).toContain('WRITE: would call identity-store.upsertPerson (a write: not done)');
  // the reconcile's plan against slapd and the SCIM service: Sales out first, Engineering after
  const removals = at('removals (carried out first):');
  const additions = at('additions (after every removal):');
  expect(removals).toBeGreaterThan(0);
  expect(additions).toBeGreaterThan(removals);
  const removed = lines.slice(removals + 1, additions).map((l) => l.trim());
  expect(removed).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^- corp-directory: remove group sales \(sdryrun\)/),
      expect.stringMatching(/^- crm: /),
    ]),
  );
  const added = lines.slice(additions + 1, additions + 8).map((l) => l.trim());
  expect(added).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^\+ corp-directory: add group engineering \(sdryrun\)/),
      expect.stringMatching(/^\+ corp-directory: add group deployers \(sdryrun\)/),
    ]),
  );
  expect(text).toContain(
    'condition: event.?previous.?department.orValue("") != subject.?department.orValue("") → true',
  );
  // no manager recorded: nobody to tell
  expect(text).toContain('condition: has(subject.manager) && has(subject.manager.email) → false');

  // the JSON form says the same, through the API this time
  const api = await h.request<DryRunResult>('POST', '/v1/plan', { body: mover });
  expect(api.status).toBe(200);
  const [flow] = api.body.flows;
  expect(flow).toMatchObject({ flow: 'mover-standard', version: 1 });
  const access = find(flow?.steps ?? [], 'access');
  expect(access?.reconcile?.removals.map((c) => `${c.connector}:${c.op}:${c.value ?? ''}`)).toEqual(
    expect.arrayContaining(['corp-directory:removeEntitlement:sales']),
  );
  expect(
    access?.reconcile?.additions.map((c) => `${c.connector}:${c.op}:${c.value ?? ''}`),
  ).toEqual(expect.arrayContaining(['corp-directory:addEntitlement:engineering']));

  // nothing changed: directory, SCIM application, database; no run, no event
  expect(await world()).toEqual(before);
  await expect(
    h.client.workflow.getHandle(`flow/mover-standard/${sam.id}/${mover.id as string}`).describe(),
  ).rejects.toThrow();
  const rows = await planRows();
  expect(rows).toHaveLength(2);
  expect(rows[1]).toMatchObject({
    actor: 'token:test-admin',
    target: `person:${sam.id}`,
    detail: { type: 'person.mover', flows: [{ flow: 'mover-standard', version: 1 }] },
  });
  expect((rows[0] as { actor: string }).actor).toMatch(/^cli:/);
  // no personal data in the dry run's audit rows
  for (const value of Object.values(sam).filter((v) => v !== sam.id))
    expect(JSON.stringify(rows)).not.toContain(value);
}, 240_000);

test('a joiner for a person not in the store: a username derived from the live directory, and the account the reconcile would create', async () => {
  const ida = {
    ...sam,
    id: 'p-dry-ida',
    givenName: 'Ida',
    familyName: 'Dryrun',
    department: 'Engineering',
  };
  const result = JSON.parse(
    await planEvent(
      makeEvent('person.joiner', ida, { effectiveAt: new Date().toISOString() }),
      '--json',
    ),
  ) as DryRunResult;
  expect(result.subjectKnown).toBe(false);
  const [flow] = result.flows;
  expect(flow?.flow).toBe('joiner-standard');
  const steps = flow?.steps ?? [];
  // sdryrun is Sam's: the directory's answer is the next free name
  expect(find(steps, 'derive-username')).toMatchObject({
    mode: 'read',
    call: { result: { username: 'idryrun', existing: false } },
  });
  expect(find(steps, 'record-person')).toMatchObject({ mode: 'write' });
  const access = find(steps, 'access');
  expect(access?.reconcile?.removals).toEqual([]);
  expect(
    access?.reconcile?.additions.map((c) => `${c.connector}:${c.op}:${c.account ?? ''}`),
  ).toEqual(expect.arrayContaining(['corp-directory:createAccount:idryrun']));
  const stored: unknown = await h.db.db.execute(sql`select id from persons where id = ${ida.id}`);
  expect(stored).toHaveLength(0);
}, 120_000);

test('an event no rule matches: no flow would start', async () => {
  const text = await planEvent(makeEvent('person.unheard-of', { id: 'p-dry-none' }));
  expect(text).toContain('Rules listening to this event type:\n  none');
  expect(text).toContain('No flow would start: no rule matched this event.');
}, 60_000);

test('POST /v1/plan: a bad body is a 400 naming the field; a token without the plan scope is a 403', async () => {
  const bad = await h.request('POST', '/v1/plan', {
    body: { ...makeEvent('person.mover', { id: 'p-dry-bad' }), occurredAt: 'yesterday' },
  });
  expect(bad.status).toBe(400);
  expect(bad.headers.get('content-type')).toContain('application/problem+json');
  expect(bad.body.errors).toEqual([expect.objectContaining({ path: '/occurredAt' })]);

  const { token } = await new TokenService(h.db.db).create({
    name: 'dry-run-no-plan',
    scopes: ['events:write', 'persons:read'],
    actor: 'test',
  });
  const refused = await h.request('POST', '/v1/plan', {
    body: makeEvent('person.mover', { id: 'p-dry-bad' }),
    token,
  });
  expect(refused.status).toBe(403);

  // whatever the body, a 4xx problem naming where it is wrong, never a 5xx
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.jsonValue(),
        fc.record({
          source: fc.string(),
          id: fc.string(),
          type: fc.string(),
          subject: fc.record({ id: fc.string() }),
          occurredAt: fc.string(),
        }),
      ),
      async (body) => {
        const res = await h.request('POST', '/v1/plan', { body });
        expect(res.status).toBe(400);
        expect(Array.isArray(res.body.errors)).toBe(true);
      },
    ),
    { numRuns: 40 },
  );
}, 120_000);
