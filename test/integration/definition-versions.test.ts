/**
 * Definition versions on real Temporal and PostgreSQL, applied from a git checkout of their
 * own: a run waiting on an approval keeps the version it started with across an activation
 * and finishes with its old hash and behaviour while a new event's run uses the new version;
 * drafts change nothing active; activation by version and by hash prefix; history, diff, git
 * capture; retention keeps the active version, newer drafts and versions runs still use.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAudit } from '../../src/db/repos/audit';
import { activeDefinitions, definitionHistory } from '../../src/db/repos/definitions';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { applyDefinitions, type ApplyResult } from '../../src/definitions/apply';
import { applyRetention, temporalVersionsInUse } from '../../src/definitions/retention';
import { activateDefinition, diffDefinition, historyOf } from '../../src/definitions/versions';
import { renderDiff } from '../../src/definitions/diff';
import { TokenService } from '../../src/gateway/services/tokens';
import { taskIdOf } from '../../src/model/approval';
import type { ApprovalTask, RunState } from '../../src/temporal/contracts';
import { equals, visibilityQuery } from '../../src/temporal/visibility';
import { Harness, makeEvent } from '../support/harness';

const MANAGER = 'p-dv-mgr';
const AUTHOR = 'Definition Author <author@example.invalid>';
let h: Harness;
let repo: string;
let managerToken: string;

/** The flow: an approval, then a `set` whose value tells which version ran. */
function flowYaml(outcome: string, extraStep = false): string {
  return `# yaml-language-server: $schema=../../idflow.schema.json
apiVersion: idflow/v1
kind: Policy
metadata: { name: dv-policy }
rules:
  - { on: [test.dv], run: [dv-flow] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: dv-flow, title: Versioned flow }
steps:
  - id: ask
    approval:
      approvers: [subject.managerId]
      request: Access for \${subject.id}?
      timeout: 120s
  - id: result
    set: { outcome: '${outcome}' }
${extraStep ? "  - id: note\n    set: { noted: 'yes' }\n" : ''}`;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

function commit(text: string, message: string): string {
  writeFileSync(join(repo, 'defs.yaml'), text);
  git('add', 'defs.yaml');
  git(
    '-c',
    'user.name=Definition Author',
    '-c',
    'user.email=author@example.invalid',
    'commit',
    '-q',
    '-m',
    message,
  );
  return git('rev-parse', 'HEAD');
}

const apply = (draft = false): Promise<ApplyResult> =>
  applyDefinitions(h.db.db, [repo], { replace: false, actor: 'test:dv', draft });

async function waitingRun(subject: string): Promise<{ runId: string; task: ApprovalTask }> {
  const event = makeEvent('test.dv', {
    id: subject,
    displayName: `Subject ${subject}`,
    managerId: MANAGER,
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/dv-flow/${subject}/${event.id as string}`;
  const task = await h.eventually(async () =>
    (await h.runState(runId))?.approvals.find((t) => t.status === 'open'),
  );
  return { runId, task };
}

/** Approves run `runId`'s open task as the manager, through the API. */
async function approve(runId: string, task: ApprovalTask): Promise<void> {
  const res = await h.request('POST', `/v1/approvals/${taskIdOf(runId, task.step)}/decision`, {
    token: managerToken,
    body: { decision: 'approve' },
  });
  expect(res.status).toBe(200);
}

async function hashAttribute(runId: string): Promise<unknown> {
  const description = await h.client.workflow.getHandle(runId).describe();
  return description.searchAttributes.IdflowDefinitionHash?.[0];
}

const activeHash = async () => (await activeDefinitions(h.db.db, 'Flow', ['dv-flow']))[0]?.hash;

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'idflow-dv-'));
  execFileSync('git', ['init', '-q', repo]);
  h = new Harness({ definitions: [] });
  await h.start();
  await insertPersonIfAbsent(h.db.db, {
    id: MANAGER,
    displayName: 'Dana Versions',
    email: 'dv-mgr@example.com',
    status: 'active',
  });
  managerToken = (
    await new TokenService(h.db.db).create({
      name: MANAGER,
      scopes: ['approvals'],
      personId: MANAGER,
      actor: 'test',
    })
  ).token;
});

afterAll(async () => {
  await h?.close();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

let v1: string;
let v2: string;

test('a run waiting on an approval finishes on its old version after a new one is activated; new runs use the new one', async () => {
  const commit1 = commit(flowYaml('v1'), 'first version');
  const first = await apply();
  expect(first.stored.map((s) => [s.kind, s.name, s.version])).toEqual([
    ['Flow', 'dv-flow', 1],
    ['Policy', 'dv-policy', 1],
  ]);
  expect(first.git).toEqual({ commit: commit1, author: AUTHOR });
  v1 = (await activeHash()) as string;

  const old = await waitingRun('s-dv-old');
  expect((await h.runState(old.runId))?.hash).toBe(v1);

  const commit2 = commit(flowYaml('v2', true), 'second version: a new outcome and a note');
  const second = await apply();
  // only the flow changed: the policy stores nothing
  expect(second.stored.map((s) => [s.kind, s.name, s.version])).toEqual([['Flow', 'dv-flow', 2]]);
  expect(second.activated).toEqual([
    expect.objectContaining({ kind: 'Flow', version: 2, previousHash: v1, previousVersion: 1 }),
  ]);
  expect(second.git?.commit).toBe(commit2);
  v2 = (await activeHash()) as string;
  expect(v2).not.toBe(v1);

  const fresh = await waitingRun('s-dv-new');
  expect((await h.runState(fresh.runId))?.hash).toBe(v2);

  await approve(old.runId, old.task);
  const oldOutcome = await h.runOutcome(old.runId);
  expect(oldOutcome.ok).toBe(true);
  expect(oldOutcome).toMatchObject({ result: { status: 'Completed', vars: { outcome: 'v1' } } });
  // the finished run answers its state query with the version it ran
  const oldState = (await h.runState(old.runId)) as RunState;
  expect(oldState).toMatchObject({ hash: v1, status: 'Completed' });
  expect(oldState.steps.map((s) => s.id)).toEqual(['ask', 'result']);
  expect(await hashAttribute(old.runId)).toBe(v1);

  await approve(fresh.runId, fresh.task);
  const freshOutcome = await h.runOutcome(fresh.runId);
  expect(freshOutcome).toMatchObject({ result: { vars: { outcome: 'v2', noted: 'yes' } } });
  const freshState = (await h.runState(fresh.runId)) as RunState;
  expect(freshState.hash).toBe(v2);
  expect(freshState.steps.map((s) => s.id)).toEqual(['ask', 'result', 'note']);
  expect(await hashAttribute(fresh.runId)).toBe(v2);

  // the diff behind `idflow definitions diff flow/dv-flow 1 2`
  const { diff } = await diffDefinition(h.db.db, 'flow/dv-flow', '1', '2');
  expect(diff.yaml).toContain("-    set: { outcome: 'v1' }");
  expect(diff.yaml).toContain("+    set: { outcome: 'v2' }");
  expect(diff.yaml).toContain('+  - id: note');
  expect(diff.steps).toEqual([
    { change: 'changed', id: 'result', kind: 'set', fields: ['values'] },
    { change: 'added', id: 'note', kind: 'set', parent: null },
  ]);
  const printed = renderDiff('Flow', 'dv-flow', diff);
  expect(printed).toContain('~ result (set): values');
  expect(printed).toContain('+ note (set) added');

  // every store and activation is audited with version, hash and actor
  const audit = await listAudit(h.db.db, { target: 'flow:dv-flow' });
  expect(audit.map((r) => [r.action, r.actor, r.detail])).toEqual([
    [
      'definition.stored',
      'test:dv',
      expect.objectContaining({ version: 1, hash: v1, gitCommit: commit1 }),
    ],
    ['definition.activated', 'test:dv', { version: 1, hash: v1 }],
    ['definition.stored', 'test:dv', expect.objectContaining({ version: 2, hash: v2 })],
    [
      'definition.activated',
      'test:dv',
      { version: 2, hash: v2, previousHash: v1, previousVersion: 1 },
    ],
  ]);
});

test('an unchanged definition stores nothing; --draft stores without changing the active version, from a dirty tree', async () => {
  const again = await apply();
  expect(again).toMatchObject({ stored: [], activated: [], deactivated: [] });

  writeFileSync(join(repo, 'defs.yaml'), flowYaml('v3'));
  const draft = await apply(true);
  expect(draft.stored).toEqual([expect.objectContaining({ kind: 'Flow', version: 3 })]);
  expect(draft.activated).toEqual([]);
  expect(draft.git?.commit).toBe(`${git('rev-parse', 'HEAD')}-dirty`);
  expect(await activeHash()).toBe(v2);

  const { versions } = await historyOf(h.db.db, 'Flow/dv-flow');
  expect(versions.map((v) => [v.version, v.status])).toEqual([
    [3, 'draft'],
    [2, 'active'],
    [1, 'superseded'],
  ]);
  expect(versions[0]).toMatchObject({
    sourcePath: 'defs.yaml',
    appliedBy: 'test:dv',
    gitAuthor: AUTHOR,
    activatedAt: null,
  });
  expect(versions[0]?.gitCommit).toMatch(/^[0-9a-f]{40}-dirty$/);
  expect(versions[0]?.source).toContain("set: { outcome: 'v3' }");
  expect(versions[0]?.source).not.toContain('kind: Policy');
  expect(versions[2]?.activatedAt).toBeInstanceOf(Date);
});

test('activate by hash prefix and by version number; a new run follows the active version', async () => {
  const [draft] = await definitionHistory(h.db.db, 'Flow', 'dv-flow');
  const prefix = (draft?.hash as string).replace('sha256:', '').slice(0, 10);
  const byHash = await activateDefinition(h.db.db, 'FLOW/dv-flow', prefix, 'test:operator');
  expect(byHash).toMatchObject({ unchanged: false, change: { version: 3, previousVersion: 2 } });
  expect(await activeHash()).toBe(draft?.hash);

  const byVersion = await activateDefinition(h.db.db, 'flow/dv-flow', '1', 'test:operator');
  expect(byVersion.change).toMatchObject({ version: 1, hash: v1, previousVersion: 3 });
  const run = await waitingRun('s-dv-back');
  expect((await h.runState(run.runId))?.hash).toBe(v1);
  await approve(run.runId, run.task);
  expect(await h.runOutcome(run.runId)).toMatchObject({
    ok: true,
    result: { vars: { outcome: 'v1' } },
  });

  expect(await activateDefinition(h.db.db, 'flow/dv-flow', 'v1', 'test:operator')).toMatchObject({
    unchanged: true,
  });
  await activateDefinition(h.db.db, 'flow/dv-flow', '2', 'test:operator');
  expect(await activeHash()).toBe(v2);
  const rows = await listAudit(h.db.db, { target: 'flow:dv-flow', action: 'definition.activated' });
  expect(
    rows
      .filter((r) => r.actor === 'test:operator')
      .map((r) => (r.detail as { version: number }).version),
  ).toEqual([3, 1, 2]);
});

test('bad kinds, names and versions get errors naming them', async () => {
  await expect(activateDefinition(h.db.db, 'flw/dv-flow', '1', 't')).rejects.toThrow(
    /"flw" is not a definition kind; kinds: flow, policy/,
  );
  await expect(activateDefinition(h.db.db, 'dv-flow', '1', 't')).rejects.toThrow(
    /"dv-flow" is not <kind>\/<name>/,
  );
  await expect(activateDefinition(h.db.db, 'flow/DV Flow', '1', 't')).rejects.toThrow(
    /"DV Flow" is not a Flow name/,
  );
  await expect(activateDefinition(h.db.db, 'flow/no-such-flow', '1', 't')).rejects.toThrow(
    "Flow 'no-such-flow' has no stored versions",
  );
  await expect(activateDefinition(h.db.db, 'flow/dv-flow', '99', 't')).rejects.toThrow(
    "Flow 'dv-flow' has no version '99' (a version number or a hash prefix of at least 4 hex digits); stored versions: 1, 2, 3",
  );
  await expect(diffDefinition(h.db.db, 'policy/dv-policy', '1', 'zz')).rejects.toThrow(
    "Policy 'dv-policy' has no version 'zz'",
  );
  expect(await activeHash()).toBe(v2);
});

test('retention keeps the active version, newer drafts and versions running runs use; prunes nothing when Temporal cannot be asked', async () => {
  // v2 is active: a run waits on it
  const keepRun = await waitingRun('s-dv-keep');
  expect((await h.runState(keepRun.runId))?.hash).toBe(v2);
  const inUse = temporalVersionsInUse(h.client);
  await h.eventually(async () =>
    (
      await h.client.workflow.count(
        visibilityQuery(equals('IdflowDefinitionHash', v2), equals('ExecutionStatus', 'Running')),
      )
    ).count > 0
      ? true
      : undefined,
  );
  commit(flowYaml('v4'), 'fourth version');
  expect((await apply()).stored).toEqual([expect.objectContaining({ version: 4 })]);
  writeFileSync(join(repo, 'defs.yaml'), flowYaml('v5'));
  expect((await apply(true)).stored).toEqual([expect.objectContaining({ version: 5 })]);

  const unasked = await applyRetention(h.db.db, { keep: 1, actor: 'test:dv' });
  expect(unasked.pruned).toEqual([]);
  expect(unasked.skipped).toMatch(/were kept: Temporal was not asked/);
  const down = await applyRetention(h.db.db, {
    keep: 1,
    actor: 'test:dv',
    inUse: () => Promise.reject(new Error('connection refused')),
  });
  expect(down.pruned).toEqual([]);
  expect(down.skipped).toMatch(/could not be asked .*\(connection refused\)/);
  expect((await definitionHistory(h.db.db, 'Flow', 'dv-flow')).length).toBe(5);

  const result = await applyRetention(h.db.db, { keep: 1, actor: 'test:dv', inUse });
  expect(result.pruned.map((p) => [p.kind, p.name, p.version]).sort()).toEqual([
    ['Flow', 'dv-flow', 1],
    ['Flow', 'dv-flow', 3],
  ]);
  expect(result.inUse.map((p) => p.version)).toEqual([2]);
  const left = await definitionHistory(h.db.db, 'Flow', 'dv-flow');
  expect(left.map((v) => [v.version, v.status])).toEqual([
    [5, 'draft'],
    [4, 'active'],
    [2, 'superseded'],
  ]);
  const pruned = await listAudit(h.db.db, { target: 'flow:dv-flow', action: 'definition.pruned' });
  expect(pruned.map((r) => r.detail)).toEqual([
    { version: 3, hash: result.pruned.find((p) => p.version === 3)?.hash, keep: 1 },
    { version: 1, hash: v1, keep: 1 },
  ]);
  await expect(activateDefinition(h.db.db, 'flow/dv-flow', '1', 't')).rejects.toThrow(
    'stored versions: 2, 4, 5',
  );

  // the run on the version kept finishes on it
  await approve(keepRun.runId, keepRun.task);
  expect(await h.runOutcome(keepRun.runId)).toMatchObject({
    ok: true,
    result: { vars: { outcome: 'v2', noted: 'yes' } },
  });
  // a closed run's state is answered by a worker replaying it, which a loaded machine may be
  // slow to do: asked again until it answers
  expect(await h.eventually(async () => (await h.runState(keepRun.runId))?.hash)).toBe(v2);
  expect(await hashAttribute(keepRun.runId)).toBe(v2);
});
