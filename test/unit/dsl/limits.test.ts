/**
 * Definition files that cannot live in git as fixtures: a 50 MB file, a FIFO, links (to a
 * directory, dangling, looping), nesting thousands of levels deep, thousands of aliases. Each
 * gets one clear diagnostic for its path, and the other files are still validated, both through
 * the loader and through `idflow validate` as CI runs it.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileSources } from '../../../src/dsl/compiler';
import { formatDiagnostic } from '../../../src/dsl/diagnostics';
import {
  MAX_ALIASES,
  MAX_DOCUMENTS,
  MAX_FILE_BYTES,
  MAX_ITEMS,
  MAX_NESTING,
  MAX_STEP_NESTING,
} from '../../../src/dsl/limits';
import { loadSources } from '../../../src/dsl/load';
import { ROOT } from '../../support/definitions';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'idflow.js');

async function idflow(
  cwd: string,
  args: string[],
  nodeArgs: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...nodeArgs, BIN, ...args], {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const GOOD = `apiVersion: idflow/v1
kind: Flow
metadata: { name: good }
steps:
  - id: pause
    wait: { for: 1s }
`;

const BAD = `apiVersion: idflow/v1
kind: Flowe
metadata: { name: bad }
`;

/** Tests that start `idflow` itself wait for a Node process to start (seconds on a busy machine). */
const CLI_TIMEOUT = 120_000;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idflow-limits-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A folder holding every kind of path a scan can meet, next to a good and a bad file. */
async function awkwardFolder(): Promise<string> {
  const folder = await mkdtemp(join(dir, 'defs-'));
  await writeFile(join(folder, 'a-good.yaml'), GOOD);
  await writeFile(join(folder, 'z-bad.yaml'), BAD);
  execFileSync('mkfifo', [join(folder, 'fifo.yaml')]);
  await mkdir(join(folder, 'elsewhere'));
  await symlink(join(folder, 'elsewhere'), join(folder, 'dir-link.yaml'));
  await symlink(join(folder, 'missing.yaml'), join(folder, 'dangling.yaml'));
  await symlink(join(folder, 'loop.yaml'), join(folder, 'loop.yaml'));
  await symlink(join(folder, 'a-good.yaml'), join(folder, 'good-link.yaml'));
  const big = await open(join(folder, 'huge.yaml'), 'w');
  await big.truncate(50 * 1024 * 1024);
  await big.close();
  return folder;
}

const EXPECTED = [
  'dangling.yaml:1:1: error: is a symbolic link to a file that does not exist',
  'dir-link.yaml:1:1: error: is a symbolic link to a directory; only regular files (or links to them) are read',
  'fifo.yaml:1:1: error: is a FIFO (named pipe), not a regular file; only regular files are read',
  'huge.yaml:1:1: error: is 50 MiB; definition files may be at most 256 KiB, so split it',
  'loop.yaml:1:1: error: is a symbolic link that loops (it leads back to itself)',
  "z-bad.yaml:2:7: error at /kind: unknown kind 'Flowe'; expected 'Flow', 'Policy', 'Connector', 'Template', 'Role', 'SodRule', 'Correlation' or 'Source'; did you mean 'Flow'?",
];

describe('files that are not regular files', () => {
  test('the loader reports each awkward path and reads the regular files and links to them', async () => {
    const folder = await awkwardFolder();
    const { sources, diagnostics } = await loadSources([folder]);
    expect(sources.map((s) => s.path.slice(s.path.lastIndexOf('/') + 1))).toEqual([
      'a-good.yaml',
      'good-link.yaml',
      'z-bad.yaml',
    ]);
    expect(diagnostics.map((d) => [d.file.slice(d.file.lastIndexOf('/') + 1), d.code])).toEqual([
      ['dangling.yaml', 'unreadable'],
      ['dir-link.yaml', 'not-a-file'],
      ['fifo.yaml', 'not-a-file'],
      ['huge.yaml', 'file-too-large'],
      ['loop.yaml', 'unreadable'],
    ]);
  });

  test(
    'idflow validate reports every awkward path, validates the other files and exits 1',
    async () => {
      const folder = await awkwardFolder();
      const { code, stdout, stderr } = await idflow(folder, ['validate', '.']);
      expect(code).toBe(1);
      // good.yaml and its link both define flow 'good': the link was read as a file.
      expect(stdout.trim().split('\n')).toEqual([
        ...EXPECTED.slice(0, 5),
        "good-link.yaml:3:19: error at /metadata/name: a Flow named 'good' is already defined at a-good.yaml:1:1",
        EXPECTED[5],
      ]);
      expect(stderr.trim()).toBe('7 problems found');
    },
    CLI_TIMEOUT,
  );

  test(
    'a path given directly that is a FIFO is refused, not opened',
    async () => {
      const folder = await mkdtemp(join(dir, 'fifo-'));
      execFileSync('mkfifo', [join(folder, 'pipe.yaml')]);
      await writeFile(join(folder, 'good.yaml'), GOOD);
      const { code, stdout } = await idflow(folder, ['validate', 'pipe.yaml', 'good.yaml']);
      expect(code).toBe(1);
      expect(stdout.trim()).toBe(
        'pipe.yaml:1:1: error: is a FIFO (named pipe), not a regular file; only regular files are read',
      );
    },
    CLI_TIMEOUT,
  );

  test('a 50 MB file is refused from its size, without opening it', async () => {
    const folder = await mkdtemp(join(dir, 'big-'));
    const big = await open(join(folder, 'huge.yaml'), 'w');
    await big.truncate(50 * 1024 * 1024);
    await big.close();
    const opened = jest.spyOn(fsPromises, 'open');
    const started = performance.now();
    const { sources, diagnostics } = await loadSources([join(folder, 'huge.yaml')]);
    const took = performance.now() - started;
    expect(opened).not.toHaveBeenCalled();
    opened.mockRestore();
    expect(took).toBeLessThan(500);
    expect(sources).toEqual([]);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['file-too-large', 'is 50 MiB; definition files may be at most 256 KiB, so split it'],
    ]);
  });

  test('a file just at the size limit is read; one byte more is not', async () => {
    const folder = await mkdtemp(join(dir, 'edge-'));
    const padded = GOOD + '#'.repeat(MAX_FILE_BYTES - GOOD.length);
    await writeFile(join(folder, 'at.yaml'), padded);
    await writeFile(join(folder, 'over.yaml'), padded + '#');
    const { sources, diagnostics } = await loadSources([folder]);
    expect(sources.map((s) => s.text.length)).toEqual([MAX_FILE_BYTES]);
    expect(diagnostics.map((d) => d.message)).toEqual([
      'is 256 KiB; definition files may be at most 256 KiB, so split it',
    ]);
  });

  test('text handed to the compiler directly is held to the same size', () => {
    const result = compileSources([{ path: 'big.yaml', text: ' '.repeat(MAX_FILE_BYTES + 1) }]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'big.yaml:1:1: error: this file is 256 KiB; definition files may be at most 256 KiB, so split it',
    ]);
  });
});

/** A flow whose first step nests `depth` levels of if steps (depth 1: a plain step). */
function nestedSteps(depth: number): string {
  let step = '{id: s' + depth + ', wait: {for: 1s}}';
  for (let level = depth - 1; level >= 1; level--)
    step = `{id: s${level}, if: {condition: 'true', then: [${step}]}}`;
  return `apiVersion: idflow/v1\nkind: Flow\nmetadata: {name: deep}\nsteps: [${step}]\n`;
}

/** A flow with a value nested so the document has `depth` levels of mappings and lists. */
function nestedValue(depth: number): string {
  // root map, steps list, step map, set map: four levels before the value.
  const lists = depth - 4;
  return `apiVersion: idflow/v1\nkind: Flow\nmetadata: {name: deep}\nsteps: [{id: s, set: {v: ${'['.repeat(lists)}${']'.repeat(lists)}}}]\n`;
}

describe('nesting', () => {
  test.each([1, MAX_STEP_NESTING - 1, MAX_STEP_NESTING])('steps nested %i deep compile', (n) => {
    const result = compileSources([{ path: 'deep.yaml', text: nestedSteps(n) }]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.flows.size).toBe(1);
  });

  test('steps nested one level past the limit get one error at the step', () => {
    const result = compileSources([{ path: 'deep.yaml', text: nestedSteps(MAX_STEP_NESTING + 1) }]);
    const pointer = '/steps/0' + '/if/then/0'.repeat(MAX_STEP_NESTING);
    expect(result.diagnostics.map((d) => [d.line, d.code, d.pointer, d.message])).toEqual([
      [
        4,
        'too-deep',
        pointer,
        `this step is nested ${MAX_STEP_NESTING + 1} levels deep; steps may nest at most ${MAX_STEP_NESTING} levels inside branching steps (if, switch), so flatten the branches`,
      ],
    ]);
  });

  const tooDeep = `mappings and lists nest more than ${MAX_NESTING} levels deep here; idflow reads at most ${MAX_NESTING} levels`;

  test.each([MAX_NESTING - 1, MAX_NESTING])('a document nested %i levels compiles', (n) => {
    const result = compileSources([{ path: 'deep.yaml', text: nestedValue(n) }]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
  });

  test.each([MAX_NESTING + 1, 1_000, 10_000, 100_000])(
    'a document nested %i levels gets the same error at the level past the limit',
    (n) => {
      const started = performance.now();
      const result = compileSources([{ path: 'deep.yaml', text: nestedValue(n) }]);
      expect(performance.now() - started).toBeLessThan(2_000);
      // The 101st level is list number 97 of the value, which starts at column 26.
      expect(result.diagnostics.map(formatDiagnostic)).toEqual([
        `deep.yaml:4:${26 + MAX_NESTING - 4}: error: ${tooDeep}`,
      ]);
    },
  );

  test('steps nested 5,000 deep get the nesting error; 10,000 deep is over the size limit', () => {
    const deep = compileSources([{ path: 'deep.yaml', text: nestedSteps(5_000) }]);
    expect(deep.diagnostics.map((d) => [d.line, d.code, d.message])).toEqual([
      [4, 'too-deep', tooDeep],
    ]);
    const deeper = compileSources([{ path: 'deep.yaml', text: nestedSteps(10_000) }]);
    expect(deeper.diagnostics.map((d) => d.code)).toEqual(['file-too-large']);
  });

  test('block nesting (indentation and "- - -") is held to the same limit', () => {
    const indented = Array.from({ length: 500 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    const dashes = '- '.repeat(10_000) + 'x';
    for (const text of [indented, dashes]) {
      const result = compileSources([{ path: 'deep.yaml', text }]);
      expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([['too-deep', tooDeep]]);
    }
  });

  test(
    'idflow validate gives the same clean errors whatever the stack size',
    async () => {
      const folder = await mkdtemp(join(dir, 'stack-'));
      await writeFile(join(folder, 'a-steps.yaml'), nestedSteps(5_000));
      await writeFile(join(folder, 'b-value.yaml'), nestedValue(10_000));
      await writeFile(join(folder, 'c-steps.yaml'), nestedSteps(MAX_STEP_NESTING + 1));
      await writeFile(join(folder, 'd-good.yaml'), GOOD);
      const small = await idflow(folder, ['validate', '.'], ['--stack-size=200']);
      const usual = await idflow(folder, ['validate', '.']);
      expect(small).toEqual(usual);
      expect(usual.code).toBe(1);
      expect(usual.stderr.trim()).toBe('3 problems found');
      const stepsTooDeep = `this step is nested ${MAX_STEP_NESTING + 1} levels deep; steps may nest at most ${MAX_STEP_NESTING} levels inside branching steps (if, switch), so flatten the branches`;
      expect(usual.stdout.trim().split('\n')).toEqual([
        `a-steps.yaml:4:1352: error: ${tooDeep}`,
        `b-value.yaml:4:${26 + MAX_NESTING - 4}: error: ${tooDeep}`,
        `c-steps.yaml:4:656: error at /steps/0${'/if/then/0'.repeat(MAX_STEP_NESTING)}: ${stepsTooDeep}`,
      ]);
    },
    CLI_TIMEOUT,
  );
});

describe('documents and aliases', () => {
  test('a file with more documents than the limit is refused at the first one too many', () => {
    const text = '--- {}\n'.repeat(10_000);
    const result = compileSources([{ path: 'many.yaml', text }]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `many.yaml:${MAX_DOCUMENTS + 1}:1: error: this file has more than ${MAX_DOCUMENTS} YAML documents; idflow reads at most ${MAX_DOCUMENTS} per file, so split it into several files`,
    ]);
  });

  test('more aliases than the limit in one document are refused at the first one too many', () => {
    const list = Array.from({ length: 500 }, () => '*a').join(', ');
    const lists = Array.from({ length: 4 }, (_, i) => `l${i}: [${list}]`).join('\n');
    const text = `apiVersion: idflow/v1\nkind: Flow\nmetadata: {name: many}\nx: &a 1\n${lists}\n`;
    const result = compileSources([{ path: 'aliases.yaml', text }]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `aliases.yaml:7:6: error: this document has more than ${MAX_ALIASES} YAML aliases; idflow reads at most ${MAX_ALIASES}, so write the values out instead`,
    ]);
  });

  test('a mapping or list with more entries than the limit is refused while it is read', () => {
    const text = `a:\n${'- 1\n'.repeat(50_000)}`;
    const result = compileSources([{ path: 'long.yaml', text }]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `long.yaml:2:1: error: this mapping or list has more than ${MAX_ITEMS} entries; idflow reads at most ${MAX_ITEMS} in one, so split it`,
    ]);
  });

  test('aliases up to the limit are fine', () => {
    const items = Array.from({ length: MAX_ALIASES - 1 }, () => '*pause').join(', ');
    const text = `apiVersion: idflow/v1\nkind: Flow\nmetadata: {name: many}\nx: &pause {for: 1s}\nsteps: [{id: s, wait: *pause}]\nlater: [${items}]\n`;
    const result = compileSources([{ path: 'aliases.yaml', text }]);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['unknown-field', 'unknown-field']);
  });
});
