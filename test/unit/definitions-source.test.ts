/**
 * What a stored version records about where it came from: its own YAML document (comments
 * kept, other documents of the file left out), and the git commit and author of the tree it
 * was applied from, marked `-dirty` when the definition files differ from the commit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentTexts } from '../../src/definitions/documents';
import { commitLabel, gitProvenance } from '../../src/definitions/git';

const FILE = `# yaml-language-server: $schema=../idflow.schema.json
# the people store
apiVersion: idflow/v1
kind: Connector
metadata: { name: people }
type: idstore
---
# the joiner
apiVersion: idflow/v1
kind: Flow
metadata: { name: joiner }
steps: []
...
---
kind: Policy
metadata:
  name: joiners
rules: []
`;

test("each document's text by kind and name, with its comments, without markers", () => {
  const texts = documentTexts([{ path: 'defs/all.yaml', text: FILE }]);
  expect([...texts.keys()]).toEqual(['Connector/people', 'Flow/joiner', 'Policy/joiners']);
  expect(texts.get('Connector/people')).toEqual({
    path: 'defs/all.yaml',
    text: '# yaml-language-server: $schema=../idflow.schema.json\n# the people store\napiVersion: idflow/v1\nkind: Connector\nmetadata: { name: people }\ntype: idstore\n',
  });
  expect(texts.get('Flow/joiner')?.text).toBe(
    '# the joiner\napiVersion: idflow/v1\nkind: Flow\nmetadata: { name: joiner }\nsteps: []\n',
  );
  expect(texts.get('Policy/joiners')?.text).toBe(
    'kind: Policy\nmetadata:\n  name: joiners\nrules: []\n',
  );
});

test('documents without a kind and name, and files that do not parse, are left out', () => {
  const texts = documentTexts([
    { path: 'a.yaml', text: 'just: data\n---\nkind: Flow\nmetadata: { name: x }\n' },
    { path: 'b.yaml', text: 'kind: Flow\nmetadata: [unclosed\n' },
  ]);
  expect([...texts.keys()]).toEqual(['Flow/x']);
});

describe('git provenance', () => {
  let dir: string;
  const git = (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=Ada Author', '-c', 'user.email=ada@example.invalid', ...args],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    ).trim();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idflow-git-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('outside a git checkout, and before the first commit, there is none', async () => {
    expect(await gitProvenance([dir])).toBeNull();
    git('init', '-q');
    writeFileSync(join(dir, 'a.yaml'), 'kind: Flow\n');
    expect(await gitProvenance([dir])).toBeNull();
    expect(await gitProvenance([])).toBeNull();
    expect(await gitProvenance([join(dir, 'missing')])).toBeNull();
  });

  test('the commit and author of a clean tree; -dirty once a definition file changes', async () => {
    git('init', '-q');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'a.yaml'), 'kind: Flow\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const sha = git('rev-parse', 'HEAD');
    const clean = await gitProvenance([join(dir, 'definitions')]);
    expect(clean).toMatchObject({
      commit: sha,
      author: 'Ada Author <ada@example.invalid>',
      dirty: false,
    });
    expect(commitLabel(clean!)).toBe(sha);

    // a change outside the definitions applied does not make them dirty
    writeFileSync(join(dir, 'README.md'), 'notes\n');
    expect((await gitProvenance([join(dir, 'definitions')]))?.dirty).toBe(false);

    writeFileSync(join(dir, 'definitions', 'b.yaml'), 'kind: Policy\n');
    const dirty = await gitProvenance([
      join(dir, 'definitions', 'a.yaml'),
      join(dir, 'definitions'),
    ]);
    expect(dirty?.dirty).toBe(true);
    expect(commitLabel(dirty!)).toBe(`${sha}-dirty`);
  });
});
