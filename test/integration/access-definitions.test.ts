/**
 * Roles and SoD rules go into the definition registry like policies: applying definitions
 * stores and activates them, and the worker reads the active ones with activeAccessDefinitions
 * (on PostgreSQL, a database of its own: PGlite cannot start inside Jest).
 */
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import { activeAccessDefinitions, activeDefinitions } from '../../src/db/repos/definitions';
import { applyDefinitions } from '../../src/definitions/apply';
import { ROOT } from '../support/definitions';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

let testDb: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase();
  handle = await openDatabase({ databaseUrl: testDb.url, dataDir: join(ROOT, '.idflow'), max: 2 });
  await handle.migrate();
}, 60_000);

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

const apply = (path: string) =>
  applyDefinitions(handle.db, [join(ROOT, path)], { replace: true, actor: 'test' });

test('apply activates roles and SoD rules; the active ones are read sorted by name', async () => {
  const result = await apply('test/fixtures/valid/access.yaml');
  expect(result.counts).toMatchObject({ roles: 3, sodRules: 2 });
  const { roles, sodRules } = await activeAccessDefinitions(handle.db);
  expect(roles.map((r) => r.name)).toEqual(['engineering', 'finance-approver', 'staff']);
  expect(roles[2]).toMatchObject({ birthright: true, grants: [{ connector: 'corp-directory' }] });
  expect(sodRules.map((r) => [r.name, r.action])).toEqual([
    ['approve-and-deploy', 'block'],
    ['approve-and-sell', 'approval'],
  ]);
  expect(sodRules[1]?.approval).toMatchObject({ kind: 'approval', id: '' });

  // the directory without the access model, applied with replace: roles and SoD rules go
  const again = await apply('test/fixtures/valid/approval.yaml');
  expect(again.deactivated.map((c) => c.kind).sort()).toEqual([
    'Connector',
    'Connector',
    'Flow',
    'Role',
    'Role',
    'Role',
    'SodRule',
    'SodRule',
  ]);
  expect(await activeAccessDefinitions(handle.db)).toEqual({ roles: [], sodRules: [] });
  expect(await activeDefinitions(handle.db, 'Role')).toEqual([]);
});
