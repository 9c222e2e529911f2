/**
 * The definition language is driven by fixtures: every file in test/fixtures/valid compiles
 * cleanly, every file in test/fixtures/invalid fails with exactly the errors listed in its
 * `# expect:` lines (line:column, pointer and message), and definitions/ compiles cleanly.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileRepoPaths, formatted, readRepoFile, ROOT } from '../../support/definitions';

const invalidDir = 'test/fixtures/invalid';
const validDir = 'test/fixtures/valid';
const invalid = readdirSync(join(ROOT, invalidDir))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const valid = readdirSync(join(ROOT, validDir))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function expectations(path: string): string[] {
  return readRepoFile(path)
    .split('\n')
    .filter((line) => line.startsWith('# expect: '))
    .map((line) => `${path}:${line.slice('# expect: '.length)}`);
}

test('there are at least 25 invalid fixtures, each with expectations', () => {
  expect(invalid.length).toBeGreaterThanOrEqual(25);
  for (const file of invalid)
    expect(expectations(`${invalidDir}/${file}`).length).toBeGreaterThan(0);
});

test.each(invalid)('invalid/%s fails with exactly its expected errors', async (file) => {
  const path = `${invalidDir}/${file}`;
  const result = await compileRepoPaths(path);
  expect(formatted(result)).toEqual(expectations(path));
});

test('a file with several problems reports all of them in one pass', async () => {
  const result = await compileRepoPaths(`${invalidDir}/several-problems.yaml`);
  const codes = result.diagnostics.map((d) => d.code);
  expect(codes).toEqual([
    'unknown-field',
    'unknown-op',
    'cel-type',
    'invalid-value',
    'invalid-value',
    'cel-syntax',
    'unknown-flow',
  ]);
  expect(result.flows.size).toBe(0);
  expect(result.policies.size).toBe(0);
});

test.each(valid)('valid/%s compiles without problems', async (file) => {
  const result = await compileRepoPaths(`${validDir}/${file}`);
  expect(formatted(result)).toEqual([]);
  expect(result.flows.size).toBeGreaterThan(0);
});

test('definitions/ compiles: joiner, mover and leaver flows, their policies and the identity store', async () => {
  const result = await compileRepoPaths('definitions');
  expect(formatted(result)).toEqual([]);
  expect([...result.flows.keys()].sort()).toEqual([
    'account-activity',
    'account-inbox-provision',
    'account-release',
    'account-takeover',
    'dormant-accounts',
    'joiner-standard',
    'leaver-contractor',
    'leaver-standard',
    'location-change',
    'mailbox-discovered',
    'market-hours-access',
    'mover-standard',
    'password-expiry-notice',
    'person-inbox-joiner',
    'preleaver-notification',
    'reactivation',
    'secondary-location-added',
    'secondary-location-removed',
  ]);
  expect([...result.policies.keys()].sort()).toEqual([
    'account-activity',
    'account-holds',
    'inboxes',
    'joiners',
    'leavers',
    'locations',
    'movers',
    'preleavers',
    'reactivations',
    'security',
  ]);
  // a terminated person's CRM user is deleted, their directory account kept disabled
  expect(result.connectors.get('crm')?.accounts).toEqual({ onTermination: 'delete' });
  expect(result.connectors.get('corp-directory')?.accounts).toEqual({ onTermination: 'disable' });
  expect([...result.correlations.keys()].sort()).toEqual(['accounts', 'hr-records']);
  expect(result.connectors.get('identity-store')?.type).toBe('idstore');
});
