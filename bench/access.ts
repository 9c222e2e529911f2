/**
 * Reconcile cost, against a real slapd and the SCIM target (startTargets on free ports, a
 * throwaway data directory) and a real database (a throwaway database on the machine's
 * PostgreSQL, PGlite when there is none), through the reconcile activities themselves
 * (createAccessActivities: planAccess, applyAccess), without Temporal.
 *
 * Part 1 — one person with 50 entitlements: 35 LDAP groups and 15 SCIM groups. A birthright
 * role gives an account on both connectors and 25 of them (17 LDAP, 8 SCIM); a department role
 * (A or B, by a rule on subject.department) gives the other 25 (18 LDAP, 7 SCIM), so a move
 * from A to B swaps half of them. Roles name 75 groups in all (53 LDAP, 22 SCIM): that is what
 * idflow manages and what a reconcile must check. Measured, RUNS times each (median, min–max),
 * after a warm-up:
 *   (a) first reconcile from nothing (a new person each run): plan → applyAccess removals →
 *       applyAccess additions → plan again to verify it is empty (plans with record: true, as
 *       the reconcile step does: they also write what was read to the accounts tables);
 *   (b) the same after moving the person to the other department (25 removals, 25 additions);
 *   (c) a no-op reconcile: one plan, empty.
 * Side by side, in the same run, the naive way to the same changes: one connector read per
 * managed entitlement (LDAP getAccount per group; SCIM findUser once, then one GET /Groups by
 * displayName per group, as the SCIM target leaves `groups` out of its users), then the same
 * writes through the same connector ops (runConnectorOp, audited alike), then the same reads
 * again to verify (a no-op: the reads alone). Target calls are counted at the protocol (every
 * ldapts Client bind, search, add/modify/delete; the SCIM target's request log) and at the
 * connector (adapter reads and connector ops). Then what single calls cost here (an LDAP bind,
 * a member change, one connector op with its audit row, an audit row alone): where the time of
 * a reconcile's writes goes.
 *
 * Part 2 — `idflow plan` for PERSONS persons (default 1,000) with LDAP accounts, created in bulk
 * with ldapts, under 10 roles (a birthright role, 8 department roles, a manager role; 36 groups);
 * one person in 20 lacks a group, so their plan adds it. planAccess (record: false) for every
 * person, sequentially and CONCURRENCY (8) at a time: persons/s and p50/p99 per person. Side by
 * side: the connector reads alone (the LDAP adapter's read per person), and the pure planner
 * alone (desiredState + managedScopes + planAccess from src/access over state read beforehand).
 *
 * Figures only: nothing here asserts a time. It fails only when a reconcile does not converge.
 *
 * Run: npm run bench:access   (RUNS=7 PERSONS=1000 CONCURRENCY=8)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import type { AccessAdapter } from '../activities/access/adapter';
import { accessAdapter } from '../activities/access/adapters';
import { createAccessActivities } from '../activities/access';
import { createConnectorActivities } from '../activities/connectors';
import { filterString, ScimTarget, type ScimConfig } from '../activities/connectors/scim-target';
import type { OpContext } from '../activities/connectors/types';
import { desiredState } from '../src/access/desired';
import { isEmptyPlan, planAccess as computePlan } from '../src/access/plan';
import { entitlementKeys, managedScopes } from '../src/access/scope';
import type { ActualAccess, EntitlementRef } from '../src/access/types';
import { ActiveConnectors } from '../src/connectors/active';
import { openDatabase, type DatabaseHandle } from '../src/db/client';
import { activeGrants } from '../src/db/repos/access';
import { appendAudit } from '../src/db/repos/audit';
import { activeAccessDefinitions } from '../src/db/repos/definitions';
import { getPerson, toPerson, updatePerson } from '../src/db/repos/persons';
import { persons } from '../src/db/schema';
import { applyDefinitions } from '../src/definitions/apply';
import type { JsonValue } from '../src/dsl/ir';
import type { Person } from '../src/model/person';
import { startTargets } from '../src/targets';
import { LDAP_TARGET } from '../src/targets/slapd';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres';
import { freePort } from '../test/support/ports';

const RUNS = Number(process.env.RUNS ?? 7);
const PERSONS = Number(process.env.PERSONS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

const BASE = LDAP_TARGET.baseDn;
const PEOPLE = `ou=people,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
const LDAP = 'bench-directory';
const SCIM = 'bench-crm';

const names = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
/** Part 1's groups: the birthright's, department A's and department B's. */
const P1 = {
  ldap: { base: names('b-base', 17), a: names('b-a', 18), b: names('b-b', 18) },
  scim: { base: names('crm-base', 8), a: names('crm-a', 7), b: names('crm-b', 7) },
};
/** Part 2's groups. */
const DEPARTMENTS = 8;
const P2_STAFF = ['p2-all-staff', 'p2-vpn-users', 'p2-wiki'];
const p2Dept = (d: number) => ['a', 'b', 'c', 'd'].map((x) => `p2-d${d}-${x}`);
const P2_MANAGERS = 'p2-managers';

// ---------------------------------------------------------------------------------------------
// counting target calls

const ldapCalls = { bind: 0, search: 0, write: 0 };
/** Connector-level calls: adapter reads and connector ops (reads and writes). */
const opCalls = { reads: 0, writes: 0 };

function countLdapCalls(): void {
  const proto = Client.prototype as unknown as Record<
    string,
    (this: Client, ...args: unknown[]) => Promise<unknown>
  >;
  const kinds: Array<[string, keyof typeof ldapCalls]> = [
    ['bind', 'bind'],
    ['search', 'search'],
    ['compare', 'search'],
    ['add', 'write'],
    ['modify', 'write'],
    ['del', 'write'],
    ['modifyDN', 'write'],
  ];
  for (const [method, kind] of kinds) {
    const original = proto[method] as (this: Client, ...args: unknown[]) => Promise<unknown>;
    proto[method] = function (this: Client, ...args: unknown[]) {
      ldapCalls[kind] += 1;
      return original.apply(this, args);
    };
  }
}

/** Counts the access adapters' reads and the connector ops their applies invoke. */
function countAdapterCalls(adapter: AccessAdapter): void {
  const read = adapter.read.bind(adapter);
  const apply = adapter.apply.bind(adapter);
  adapter.read = (ctx, owner, managed) => {
    opCalls.reads += 1;
    return read(ctx, owner, managed);
  };
  adapter.apply = (ctx, owner, changes, invoke) =>
    apply(ctx, owner, changes, (op, args, index) => {
      opCalls.writes += 1;
      return invoke(op, args, index);
    });
}

interface Tally {
  reads: number;
  writes: number;
  ldapBinds: number;
  ldapSearches: number;
  ldapWrites: number;
  scimGets: number;
  scimWrites: number;
  changes: number;
}

// ---------------------------------------------------------------------------------------------
// figures

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One figure of a tally over runs: the value, or min–max when runs differ. */
function spread(tallies: Tally[], field: keyof Tally): string {
  const values = tallies.map((t) => t[field]);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** The machine's load: figures on a busy machine vary from run to run. */
function load(): string {
  const [one] = loadavg();
  return `load average ${(one ?? 0).toFixed(1)} on ${availableParallelism()} CPUs`;
}

async function inParallel<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// definitions

function connectorsYaml(ports: { ldap: number; scim: number }): string {
  return `apiVersion: idflow/v1
kind: Connector
metadata: { name: ${LDAP} }
type: ldap
config:
  url: ldap://127.0.0.1:${ports.ldap}
  bindDn: ${LDAP_TARGET.bindDn}
  bindPassword: { secretEnv: LDAP_BIND_PASSWORD }
  usersDn: ${PEOPLE}
  groupsDn: ${GROUPS}
  idAttribute: uid
  userObjectClasses: [inetOrgPerson, adUser]
  groupObjectClass: adGroup
  disable: { method: userAccountControl }
  correlation: { attribute: employeeNumber, adoptUnowned: false }
  maxConcurrency: 8
timeout: 30s
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: ${SCIM} }
type: scim
config:
  baseUrl: http://127.0.0.1:${ports.scim}/scim/v2
  auth: { type: bearer, token: { secretEnv: CRM_SCIM_TOKEN } }
  correlation: { attribute: externalId, adoptUnowned: false }
timeout: 30s
`;
}

const LDAP_ACCOUNT = `    account:
      id: \${subject.attributes.?username.orValue("")}
      attributes:
        cn: \${subject.?displayName.orValue(subject.id)}
        sn: \${subject.?familyName.orValue(subject.id)}
        givenName: \${subject.?givenName.orValue("")}
        mail: \${subject.?email.orValue("")}`;

const role = (name: string, rule: string, grants: string) => `---
apiVersion: idflow/v1
kind: Role
metadata: { name: ${name} }
${rule}
grants:
${grants}
`;

function part1Roles(): string {
  const dept = (d: 'a' | 'b') =>
    role(
      `bench-dept-${d}`,
      `when: subject.?department.orValue("") == "${d.toUpperCase()}"`,
      `  - connector: ${LDAP}
    groups: [${P1.ldap[d].join(', ')}]
  - connector: ${SCIM}
    groups: [${P1.scim[d].join(', ')}]`,
    );
  return [
    role(
      'bench-staff',
      'birthright: true',
      `  - connector: ${LDAP}
${LDAP_ACCOUNT}
    groups: [${P1.ldap.base.join(', ')}]
  - connector: ${SCIM}
    account:
      id: \${subject.attributes.?username.orValue("")}
      attributes:
        displayName: \${subject.?displayName.orValue(subject.id)}
        name:
          givenName: \${subject.?givenName.orValue("")}
          familyName: \${subject.?familyName.orValue(subject.id)}
    groups: [${P1.scim.base.join(', ')}]`,
    ),
    dept('a'),
    dept('b'),
  ].join('');
}

function part2Roles(): string {
  const roles = [
    role(
      'p2-staff',
      'birthright: true',
      `  - connector: ${LDAP}
${LDAP_ACCOUNT}
    groups: [${P2_STAFF.join(', ')}]`,
    ),
  ];
  for (let d = 0; d < DEPARTMENTS; d++) {
    roles.push(
      role(
        `p2-dept-${d}`,
        `when: subject.?department.orValue("") == "D${d}"`,
        `  - connector: ${LDAP}
    groups: [${p2Dept(d).join(', ')}]`,
      ),
    );
  }
  roles.push(
    role(
      'p2-managers',
      'when: subject.?title.orValue("") == "Manager"',
      `  - connector: ${LDAP}
    groups: [${P2_MANAGERS}]`,
    ),
  );
  return roles.join('');
}

// ---------------------------------------------------------------------------------------------

async function openBenchDatabase(
  dataDir: string,
): Promise<{ handle: DatabaseHandle; testDb?: TestDatabase }> {
  try {
    const testDb = await createTestDatabase('idflow_bench');
    const handle = await openDatabase({ databaseUrl: testDb.url, dataDir });
    await handle.migrate();
    return { handle, testDb };
  } catch (err) {
    console.log(
      `no PostgreSQL on this machine (${err instanceof Error ? err.message : String(err)}): PGlite`,
    );
    const handle = await openDatabase({ dataDir });
    await handle.migrate();
    return { handle };
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idflow-bench-access-'));
  const ports = { ldap: await freePort(), scim: await freePort(), smtp: await freePort() };
  const targets = await startTargets(
    join(dataDir, 'targets'),
    (m) => {
      throw new Error(m);
    },
    { ports },
  );
  const admin = new Client({ url: targets.slapd?.url ?? '' });
  let opened: Awaited<ReturnType<typeof openBenchDatabase>> | undefined;
  try {
    opened = await openBenchDatabase(dataDir);
    const { handle } = opened;
    const { db } = handle;
    await admin.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const scim = targets.scim;
    const addLdapGroup = (cn: string, members: string[] = []) =>
      admin.add(`cn=${cn},${GROUPS}`, {
        objectClass: 'adGroup',
        cn,
        ...(members.length ? { member: members } : {}),
      });
    for (const cn of [...P1.ldap.base, ...P1.ldap.a, ...P1.ldap.b]) await addLdapGroup(cn);
    // groups whose SCIM id is not their displayName, as in most services
    for (const name of [...P1.scim.base, ...P1.scim.a, ...P1.scim.b]) {
      const id = randomUUID();
      scim.groups.set(id, { id, displayName: name, members: [], meta: { version: 'W/"1"' } });
    }

    const defs = join(dataDir, 'definitions');
    mkdirSync(defs);
    writeFileSync(join(defs, 'connectors.yaml'), connectorsYaml(ports));
    writeFileSync(join(defs, 'roles.yaml'), part1Roles());
    await applyDefinitions(db, [defs], { replace: true, actor: 'bench' });
    // connectors are cached for 5 s, as on a worker; roles are read at every plan
    const connectors = new ActiveConnectors(db);
    const access = createAccessActivities({ db, connectors });
    const connectorActivities = createConnectorActivities({ db, connectors });

    countLdapCalls();
    const ldapAdapter = accessAdapter('ldap') as AccessAdapter;
    countAdapterCalls(ldapAdapter);
    countAdapterCalls(accessAdapter('scim') as AccessAdapter);

    /** The calls `fn` makes, and how long it takes. */
    const measured = async (fn: () => Promise<number>): Promise<{ ms: number; tally: Tally }> => {
      const before = { ...ldapCalls, ...opCalls, scim: scim.requests.length };
      const t0 = performance.now();
      const changes = await fn();
      const ms = performance.now() - t0;
      const requests = scim.requests.slice(before.scim);
      return {
        ms,
        tally: {
          reads: opCalls.reads - before.reads,
          writes: opCalls.writes - before.writes,
          ldapBinds: ldapCalls.bind - before.bind,
          ldapSearches: ldapCalls.search - before.search,
          ldapWrites: ldapCalls.write - before.write,
          scimGets: requests.filter((r) => r.method === 'GET').length,
          scimWrites: requests.filter((r) => r.method !== 'GET').length,
          changes,
        },
      };
    };

    let serial = 0;
    const addPerson = async (id: string, department: string) => {
      const n = serial++;
      await db.insert(persons).values({
        id,
        givenName: 'Bench',
        familyName: `Person${n}`,
        displayName: `Bench Person${n}`,
        email: `bench${n}@example.com`,
        department,
        status: 'active',
        attributes: { username: `bench${n}` },
      });
    };

    // ---- reconcile, as the reconcile step does it
    /** The phases of the last reconcile, in ms. */
    const phases = { plan: 0, apply: 0, verify: 0 };
    const reconcile = async (personId: string, label: string): Promise<number> => {
      const call = { runId: `bench/${label}`, flow: 'bench-access', stepId: 'access' };
      const input = { ...call, personId, connectors: [], record: true };
      let t = performance.now();
      const lap = () => {
        const ms = performance.now() - t;
        t = performance.now();
        return ms;
      };
      Object.assign(phases, { plan: 0, apply: 0, verify: 0 });
      const plan = await access.planAccess(input);
      phases.plan = lap();
      if (plan.problems.length) throw new Error(`plan problems: ${plan.problems.join('; ')}`);
      for (const [phase, changes] of [
        ['removals', plan.removals],
        ['additions', plan.additions],
      ] as const) {
        if (changes.length === 0) continue;
        await access.applyAccess({
          ...call,
          personId,
          changes,
          idempotencyKey: `${call.runId}:access/${phase}`,
        });
      }
      phases.apply = lap();
      if (isEmptyPlan(plan)) return 0;
      const verify = await access.planAccess(input);
      phases.verify = lap();
      if (!isEmptyPlan(verify))
        throw new Error(
          `${label}: the plan after applying is not empty: ${JSON.stringify(verify)}`,
        );
      return plan.removals.length + plan.additions.length;
    };

    // ---- the naive way: a read per managed entitlement, then the same writes through the same ops
    const naive = async (personId: string, label: string, write: boolean): Promise<number> => {
      const row = await getPerson(db, personId);
      if (!row) throw new Error(`no person ${personId}`);
      const person = toPerson(row);
      const now = new Date();
      const [{ roles }, grants, active] = await Promise.all([
        activeAccessDefinitions(db),
        activeGrants(db, personId, now),
        connectors.all(),
      ]);
      const key = entitlementKeys(active);
      const desired = desiredState(person, roles, grants, now);
      const wanted = new Set(desired.entitlements.map(key));
      const { scopes } = managedScopes(roles, [], active, [], key);
      let n = 0;
      const op = async (
        connector: string,
        connectorType: string,
        name: string,
        args: Record<string, JsonValue>,
        read: boolean,
      ) => {
        if (read) opCalls.reads += 1;
        else opCalls.writes += 1;
        return connectorActivities.runConnectorOp({
          connector,
          connectorType,
          op: name,
          args,
          idempotencyKey: `bench/${label}/${n++}`,
          runId: `bench/${label}`,
          flow: 'bench-naive',
          stepId: 'access',
        });
      };
      type Step = () => Promise<unknown>;
      const removals: Step[] = [];
      const additions: Step[] = [];
      for (const scope of scopes) {
        const { connector, connectorType } = scope;
        const account = desired.accounts.find((a) => a.connector === connector);
        if (!account) continue;
        const adds: Step[] = [];
        const change = (held: boolean, e: EntitlementRef, add: Step, remove: Step) => {
          if (held && !wanted.has(key(e))) removals.push(remove);
          if (!held && wanted.has(key(e))) adds.push(add);
        };
        if (connectorType === 'ldap') {
          let found = false;
          for (const e of scope.entitlements) {
            const r = (await op(connector, 'ldap', 'getAccount', { id: account.id }, true)) as {
              found: boolean;
              account?: { groups: string[] };
            };
            found = r.found;
            const held = (r.account?.groups ?? []).some(
              (dn) => key({ connector, kind: e.kind, value: dn }) === key(e),
            );
            const args = { id: account.id, group: e.value };
            change(
              held,
              e,
              () => op(connector, 'ldap', 'addToGroup', args, false),
              () => op(connector, 'ldap', 'removeFromGroup', args, false),
            );
          }
          if (!found)
            adds.unshift(() =>
              op(
                connector,
                'ldap',
                'createAccount',
                { id: account.id, owner: personId, attributes: account.attributes },
                false,
              ),
            );
        } else {
          const config = active.get(connector)?.config ?? {};
          const cfg = config as unknown as ScimConfig;
          const ctx: OpContext = {
            connector,
            config,
            idempotencyKey: label,
            runId: label,
            flow: 'bench-naive',
            stepId: 'access',
          };
          const target = new ScimTarget(ctx, cfg, 'naiveRead', 30_000);
          const found = (await op(
            connector,
            'scim',
            'findUser',
            { externalId: personId },
            true,
          )) as {
            user?: { id: string };
          };
          let userId = found.user?.id;
          for (const e of scope.entitlements) {
            opCalls.reads += 1;
            const query = new URLSearchParams({
              filter: `displayName eq ${filterString(e.value)}`,
              attributes: 'id,displayName,members',
            });
            const res = await target.call('GET', `/Groups?${query.toString()}`);
            const group = (
              res.body as { Resources: Array<{ id: string; members?: Array<{ value: string }> }> }
            ).Resources[0];
            if (!group) throw new Error(`no SCIM group ${e.value}`);
            const held =
              userId !== undefined && (group.members ?? []).some((m) => m.value === userId);
            const args = () => ({ groupId: group.id, userId: userId as string });
            change(
              held,
              e,
              () => op(connector, 'scim', 'addGroupMember', args(), false),
              () => op(connector, 'scim', 'removeGroupMember', args(), false),
            );
          }
          if (!found.user)
            adds.unshift(async () => {
              const created = (await op(
                connector,
                'scim',
                'createUser',
                {
                  owner: personId,
                  user: { userName: account.id, active: true, ...account.attributes },
                },
                false,
              )) as { user: { id: string } };
              userId = created.user.id;
            });
        }
        additions.push(...adds);
      }
      if (write) for (const step of [...removals, ...additions]) await step();
      return removals.length + additions.length;
    };
    const naiveReconcile = async (personId: string, label: string): Promise<number> => {
      const changes = await naive(personId, label, true);
      if (changes === 0) return 0;
      const left = await naive(personId, `${label}/verify`, false);
      if (left !== 0) throw new Error(`${label}: ${left} changes left after the naive reconcile`);
      return changes;
    };

    console.log(
      `idflow access benchmark — slapd ${targets.slapd?.url}, SCIM ${scim.url}, ${handle.kind} database; RUNS=${RUNS}; ${load()}`,
    );
    console.log(
      `\nPart 1: one person with 50 entitlements (35 LDAP groups + 15 SCIM groups); roles manage 75 (53 LDAP + 22 SCIM); a move swaps 25 (18 LDAP + 7 SCIM)`,
    );

    type Way = 'reconcile' | 'naive';
    const ways: Array<[Way, (p: string, label: string) => Promise<number>]> = [
      ['reconcile', reconcile],
      ['naive', naiveReconcile],
    ];
    type Run = { ms: number; tally: Tally; phases: typeof phases };
    const results: Array<{ scenario: string; way: Way; runs: Run[] }> = [];
    const record = (scenario: string, way: Way, run: { ms: number; tally: Tally }) => {
      let entry = results.find((r) => r.scenario === scenario && r.way === way);
      if (!entry) results.push((entry = { scenario, way, runs: [] }));
      entry.runs.push({ ...run, phases: { ...phases } });
    };

    // (a) a first reconcile from nothing: a new person each run (and one warm-up each)
    for (let i = 0; i <= RUNS; i++) {
      for (const [way, fn] of ways) {
        const id = `p-first-${way}-${i}`;
        await addPerson(id, 'A');
        const run = await measured(() => fn(id, `first-${way}-${i}`));
        if (i > 0) record('(a) first reconcile', way, run);
      }
    }
    // (b) moves between departments A and B, back and forth; (c) no-op reconciles
    const movers: Record<Way, string> = { reconcile: 'p-mover-reconcile', naive: 'p-mover-naive' };
    for (const [way, fn] of ways) {
      await addPerson(movers[way], 'A');
      await fn(movers[way], `mover-${way}-setup`);
    }
    for (let i = 0; i <= RUNS; i++) {
      for (const [way, fn] of ways) {
        await updatePerson(db, movers[way], { department: i % 2 === 0 ? 'B' : 'A' });
        const run = await measured(() => fn(movers[way], `mover-${way}-${i}`));
        if (i > 0) record('(b) move: swap 25', way, run);
      }
    }
    for (let i = 0; i <= RUNS; i++) {
      for (const [way, fn] of ways) {
        const run = await measured(() => fn(movers[way], `noop-${way}-${i}`));
        if (run.tally.changes !== 0) throw new Error(`no-op ${way}: ${run.tally.changes} changes`);
        if (i > 0) record('(c) no-op', way, run);
      }
    }

    console.log(
      `\n${table(
        [
          'scenario',
          'way',
          'median ms',
          'min–max ms',
          'changes',
          'conn. reads',
          'conn. writes',
          'LDAP binds',
          'LDAP searches',
          'LDAP writes',
          'SCIM GETs',
          'SCIM writes',
        ],
        results.map(({ scenario, way, runs }) => {
          const times = runs.map((r) => r.ms);
          const tallies = runs.map((r) => r.tally);
          return [
            scenario,
            way === 'reconcile' ? 'reconcile (batched reads)' : 'naive (read per entitlement)',
            median(times).toFixed(0),
            `${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)}`,
            spread(tallies, 'changes'),
            spread(tallies, 'reads'),
            spread(tallies, 'writes'),
            spread(tallies, 'ldapBinds'),
            spread(tallies, 'ldapSearches'),
            spread(tallies, 'ldapWrites'),
            spread(tallies, 'scimGets'),
            spread(tallies, 'scimWrites'),
          ];
        }),
      )}`,
    );
    console.log(
      `conn. reads: adapter reads (reconcile) or connector read ops and GET /Groups (naive); conn. writes: connector ops carried out.
Each connector op binds its own LDAP connection; a reconcile reads a person's LDAP account and groups with 2 searches whatever their number.`,
    );
    console.log(
      `reconcile's phases (median ms): ${results
        .filter((r) => r.way === 'reconcile')
        .map(
          ({ scenario, runs }) =>
            `${scenario.slice(0, 3)} plan ${median(runs.map((r) => r.phases.plan)).toFixed(0)}, removals + additions ${median(runs.map((r) => r.phases.apply)).toFixed(0)}, verify ${median(runs.map((r) => r.phases.verify)).toFixed(0)}`,
        )
        .join('; ')}`,
    );
    // the reads alone, per plan: constant in the number of entitlements
    const plan = await measured(async () => {
      await access.planAccess({
        personId: movers.reconcile,
        connectors: [],
        record: false,
        runId: 'bench/plan',
        flow: 'bench-access',
        stepId: 'access',
      });
      return 0;
    });
    console.log(
      `one plan of the 50-entitlement person: ${plan.tally.ldapBinds} LDAP bind, ${plan.tally.ldapSearches} LDAP searches, ${plan.tally.scimGets} SCIM GETs (${plan.ms.toFixed(0)} ms)`,
    );

    // ---- what one call costs here: where a reconcile's time goes
    const PROBES = 21;
    const cost = async (fn: (i: number) => Promise<unknown>, per = 1): Promise<string> => {
      await fn(-1);
      const times: number[] = [];
      for (let i = 0; i < PROBES; i++) {
        const s = performance.now();
        await fn(i);
        times.push((performance.now() - s) / per);
      }
      return `${median(times).toFixed(1)} ms`;
    };
    const moverRow = await getPerson(db, movers.reconcile);
    const uid = String((moverRow?.attributes as { username?: string } | undefined)?.username);
    const moverDn = `uid=${uid},${PEOPLE}`;
    await addLdapGroup('b-probe');
    scim.groups.set('crm-probe', {
      id: 'crm-probe',
      displayName: 'crm-probe',
      members: [],
      meta: { version: 'W/"1"' },
    });
    const scimUser = [...scim.users.values()].find((u) => u.externalId === movers.reconcile);
    const member = (operation: 'add' | 'delete') =>
      new Change({ operation, modification: new Attribute({ type: 'member', values: [moverDn] }) });
    let probe = 0;
    const opPair = async (
      connector: string,
      type: string,
      ops: string[],
      args: Record<string, JsonValue>,
    ) => {
      for (const op of ops)
        await connectorActivities.runConnectorOp({
          connector,
          connectorType: type,
          op,
          args,
          idempotencyKey: `bench/probe/${probe++}`,
          runId: 'bench/probe',
          flow: 'bench-probe',
          stepId: 'probe',
        });
    };
    const costs: Array<[string, string]> = [
      [
        'LDAP connect + bind + unbind',
        await cost(async () => {
          const c = new Client({ url: targets.slapd?.url ?? '' });
          await c.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
          await c.unbind();
        }),
      ],
      [
        'LDAP search for an account by owner (bound)',
        await cost(() =>
          admin.search(BASE, { scope: 'sub', filter: `(employeeNumber=${movers.reconcile})` }),
        ),
      ],
      [
        'LDAP group member add or delete (bound; memberof, refint)',
        await cost(async () => {
          await admin.modify(`cn=b-probe,${GROUPS}`, [member('add')]);
          await admin.modify(`cn=b-probe,${GROUPS}`, [member('delete')]);
        }, 2),
      ],
      [
        'LDAP attribute replace (bound; for comparison)',
        await cost((i) =>
          admin.modify(`cn=b-probe,${GROUPS}`, [
            new Change({
              operation: 'replace',
              modification: new Attribute({ type: 'description', values: [`probe ${i}`] }),
            }),
          ]),
        ),
      ],
      [
        'LDAP addToGroup/removeFromGroup op (runConnectorOp: bind, search, modify, audit row)',
        await cost(
          () =>
            opPair(LDAP, 'ldap', ['addToGroup', 'removeFromGroup'], { id: uid, group: 'b-probe' }),
          2,
        ),
      ],
      [
        'SCIM addGroupMember/removeGroupMember op (runConnectorOp: GET, PATCH, audit row)',
        await cost(
          () =>
            opPair(SCIM, 'scim', ['addGroupMember', 'removeGroupMember'], {
              groupId: 'crm-probe',
              userId: String(scimUser?.id),
            }),
          2,
        ),
      ],
      [
        'an audit row alone (database insert)',
        await cost((i) =>
          appendAudit(db, {
            actor: 'bench',
            action: 'bench.probe',
            target: 'bench',
            outcome: 'ok',
            dedupeKey: `bench/probe-audit/${i}`,
          }),
        ),
      ],
    ];
    console.log(`\nper call on this machine (median of ${PROBES}):`);
    for (const [what, figure] of costs) console.log(`  ${what.padEnd(86)} ${figure}`);

    // ---- Part 2: idflow plan for PERSONS persons under 10 roles
    console.log(
      `\nPart 2: idflow plan (planAccess, record: false) for ${PERSONS} persons with LDAP accounts, 10 roles (36 groups)`,
    );
    writeFileSync(join(defs, 'roles.yaml'), part2Roles());
    await applyDefinitions(db, [defs], { replace: true, actor: 'bench' });
    const t0 = performance.now();
    const ids = Array.from({ length: PERSONS }, (_, i) => `p2-${String(i).padStart(5, '0')}`);
    const rows = ids.map((id, i) => ({
      id,
      givenName: 'Plan',
      familyName: `Person${i}`,
      displayName: `Plan Person${i}`,
      email: `plan${i}@example.com`,
      department: `D${i % DEPARTMENTS}`,
      ...(i % 10 === 0 ? { title: 'Manager' } : {}),
      status: 'active',
      attributes: { username: `plan${i}` },
    }));
    for (let i = 0; i < rows.length; i += 500)
      await db.insert(persons).values(rows.slice(i, i + 500));
    const members = new Map<string, string[]>();
    const addMember = (group: string, dn: string) =>
      members.set(group, [...(members.get(group) ?? []), dn]);
    let drifted = 0;
    await inParallel(rows, 8, async (row) => {
      const uid = row.attributes.username;
      const dn = `uid=${uid},${PEOPLE}`;
      await admin.add(dn, {
        objectClass: ['inetOrgPerson', 'adUser'],
        uid,
        cn: row.displayName,
        sn: row.familyName,
        givenName: row.givenName,
        mail: row.email,
        employeeNumber: row.id,
        userAccountControl: '512',
      });
    });
    rows.forEach((row, i) => {
      const dn = `uid=${row.attributes.username},${PEOPLE}`;
      for (const g of P2_STAFF) addMember(g, dn);
      const dept = p2Dept(i % DEPARTMENTS);
      // one person in 20 lacks a department group: their plan adds it
      for (const g of i % 20 === 7 ? dept.slice(1) : dept) addMember(g, dn);
      if (i % 20 === 7) drifted++;
      if (row.title === 'Manager') addMember(P2_MANAGERS, dn);
    });
    const allGroups = [
      ...P2_STAFF,
      ...Array.from({ length: DEPARTMENTS }, (_, d) => p2Dept(d)).flat(),
      P2_MANAGERS,
    ];
    for (const g of allGroups) await addLdapGroup(g, members.get(g) ?? []);
    console.log(
      `set up ${PERSONS} persons, their LDAP accounts and ${allGroups.length} groups in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${drifted} lack a group`,
    );

    const planOne = async (personId: string) => {
      const p = await access.planAccess({
        personId,
        connectors: [],
        record: false,
        runId: 'bench/plan',
        flow: 'bench-plan',
        stepId: 'plan',
      });
      if (p.problems.length) throw new Error(`${personId}: ${p.problems.join('; ')}`);
      return p;
    };
    // warm-up, sequential and at CONCURRENCY (the database pool grows to it)
    for (const id of ids.slice(0, 20)) await planOne(id);
    await inParallel(ids.slice(0, 4 * CONCURRENCY), CONCURRENCY, async (id) => {
      await planOne(id);
    });
    const part2: string[][] = [];
    const row2 = (what: string, wall: number, each: number[], extra: string) =>
      part2.push([
        what,
        (wall / 1000).toFixed(2),
        (each.length / (wall / 1000)).toFixed(0),
        quantile(each, 0.5).toFixed(2),
        quantile(each, 0.99).toFixed(2),
        extra,
      ]);

    for (const concurrency of [1, CONCURRENCY]) {
      const each: number[] = [];
      let changed = 0;
      const calls = await measured(async () => {
        await inParallel(ids, concurrency, async (id) => {
          const s = performance.now();
          const p = await planOne(id);
          each.push(performance.now() - s);
          if (!isEmptyPlan(p)) changed++;
        });
        return 0;
      });
      row2(
        concurrency === 1 ? 'planAccess, sequential' : `planAccess, ${concurrency} at a time`,
        calls.ms,
        each,
        `${changed} plans not empty; per person ${(calls.tally.ldapBinds / PERSONS).toFixed(1)} bind, ${(calls.tally.ldapSearches / PERSONS).toFixed(1)} searches`,
      );
    }

    // baselines: the connector reads alone, then the pure planner over what they read
    const active = await connectors.all();
    const key = entitlementKeys(active);
    const { roles, sodRules } = await activeAccessDefinitions(db);
    const { scopes } = managedScopes(roles, [], active, [], key);
    const scope = scopes.find((s) => s.connector === LDAP);
    if (!scope || scopes.length !== 1) throw new Error('part 2 manages one LDAP connector');
    const ctx: OpContext = {
      connector: LDAP,
      config: active.get(LDAP)?.config as OpContext['config'],
      idempotencyKey: 'bench/read',
      runId: 'bench/read',
      flow: 'bench-plan',
      stepId: 'plan',
    };
    const actual = new Map<string, ActualAccess>();
    {
      const each: number[] = [];
      const calls = await measured(async () => {
        for (const id of ids) {
          const s = performance.now();
          actual.set(id, await ldapAdapter.read(ctx, id, scope.entitlements));
          each.push(performance.now() - s);
        }
        return 0;
      });
      row2(
        'baseline: LDAP adapter reads alone, sequential',
        calls.ms,
        each,
        `per person ${(calls.tally.ldapSearches / PERSONS).toFixed(1)} searches`,
      );
    }
    {
      const people = new Map<string, Person>();
      for (let i = 0; i < ids.length; i += 500) {
        const batch = await Promise.all(ids.slice(i, i + 500).map((id) => getPerson(db, id)));
        for (const r of batch) if (r) people.set(r.id, toPerson(r));
      }
      const each: number[] = [];
      let changed = 0;
      const s0 = performance.now();
      for (const id of ids) {
        const s = performance.now();
        const now = new Date();
        const desired = desiredState(people.get(id) as Person, roles, [], now);
        const planned = computePlan({
          desired,
          actual: [actual.get(id) as ActualAccess],
          scopes: managedScopes(roles, [], active, [], key).scopes,
          roles,
          sodRules,
          key,
        });
        each.push(performance.now() - s);
        if (!isEmptyPlan(planned)) changed++;
      }
      row2(
        'baseline: pure planner over pre-read state',
        performance.now() - s0,
        each,
        `${changed} plans not empty`,
      );
    }
    console.log(`\n${table(['', 'wall s', 'persons/s', 'p50 ms', 'p99 ms', ''], part2)}`);
    console.log(`\nat the end: ${load()}`);
  } finally {
    await admin.unbind().catch(() => {});
    await opened?.handle.close();
    await opened?.testDb?.drop();
    await targets.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
