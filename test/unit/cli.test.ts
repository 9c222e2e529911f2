/**
 * The `idflow` command as users and CI run it: exit status, output formats, compile output.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../support/definitions';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'idflow.js');

async function idflow(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('validate with no paths checks definitions/ and exits 0', async () => {
  const { code, stderr } = await idflow('validate');
  expect(code).toBe(0);
  expect(stderr).toMatch(
    /^ok: \d+ flows, \d+ policies, \d+ connectors(, \d+ roles?)?(, \d+ SoD rules?)?(, \d+ correlations?)?(, \d+ sources?)? in \d+ files/,
  );
});

test('validate exits 1 and prints file:line:column for each problem', async () => {
  const { code, stdout } = await idflow('validate', 'test/fixtures/invalid/unknown-op.yaml');
  expect(code).toBe(1);
  expect(stdout).toMatch(
    /^test\/fixtures\/invalid\/unknown-op.yaml:\d+:11: error at \/steps\/0\/action\/op: connector 'identity-store' \(type idstore\) has no op 'upsertPersn'; did you mean 'upsertPerson'\?$/m,
  );
});

test('validate --format json gives machine-readable diagnostics', async () => {
  const { code, stdout } = await idflow(
    'validate',
    '--format',
    'json',
    'test/fixtures/invalid/several-problems.yaml',
  );
  expect(code).toBe(1);
  const diagnostics = JSON.parse(stdout) as Array<Record<string, unknown>>;
  expect(diagnostics).toHaveLength(7);
  expect(diagnostics[1]).toMatchObject({
    severity: 'error',
    file: 'test/fixtures/invalid/several-problems.yaml',
    pointer: '/steps/0/action/op',
    code: 'unknown-op',
  });
});

test('validate --format github prints workflow annotations', async () => {
  const { stdout } = await idflow(
    'validate',
    '--format',
    'github',
    'test/fixtures/invalid/unknown-kind.yaml',
  );
  expect(stdout).toMatch(
    /^::error file=test\/fixtures\/invalid\/unknown-kind.yaml,line=\d+,col=7,/m,
  );
});

test('validate names a path that does not exist', async () => {
  const { code, stdout } = await idflow('validate', 'no/such/dir');
  expect(code).toBe(1);
  expect(stdout).toContain('no/such/dir:1:1: error: no such file or directory');
});

test('compile prints the IR and hash; --out writes it to a file', async () => {
  const { code, stdout } = await idflow('compile', 'joiner-standard');
  expect(code).toBe(0);
  const printed = JSON.parse(stdout) as { name: string; hash: string; ir: { steps: unknown[] } };
  expect(printed.name).toBe('joiner-standard');
  expect(printed.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(printed.ir.steps.length).toBeGreaterThan(3);

  const out = join(await mkdtemp(join(tmpdir(), 'idflow-')), 'joiner.json');
  const written = await idflow('compile', 'joiner-standard', '--out', out);
  expect(written.code).toBe(0);
  expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(printed);
});

test('compile of an unknown flow suggests the near miss', async () => {
  const { code, stderr } = await idflow('compile', 'joiner-standrd');
  expect(code).toBe(1);
  expect(stderr).toContain("no flow named 'joiner-standrd'; did you mean 'joiner-standard'?");
});
