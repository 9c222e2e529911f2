/**
 * Where applied definitions came from in git: the commit checked out, its author, and whether
 * the definition files differ from it (then the commit reads `<sha>-dirty`, so a version is
 * never mistaken for exactly what the commit holds). Outside a git checkout, or without git,
 * every field is null: applying never depends on git.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';

export interface GitProvenance {
  /** The checkout's top-level directory; source paths are stored relative to it. */
  root: string;
  commit: string;
  author: string;
  dirty: boolean;
}

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(
      'git',
      args,
      { cwd, timeout: 10_000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout) => done(err ? undefined : stdout.trim()),
    );
  });
}

async function directoryOf(path: string): Promise<string | undefined> {
  try {
    return (await stat(path)).isDirectory() ? path : dirname(path);
  } catch {
    return undefined;
  }
}

/**
 * The git commit the definitions under `paths` were taken from (the checkout of the first
 * path), or null when they are not in a git checkout or no commit is checked out yet.
 */
export async function gitProvenance(paths: readonly string[]): Promise<GitProvenance | null> {
  const first = paths[0];
  if (first === undefined) return null;
  const dir = await directoryOf(resolve(first));
  if (!dir) return null;
  const root = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!root) return null;
  const head = await git(root, ['log', '-1', '--format=%H%x00%an <%ae>']);
  if (!head) return null;
  const [commit, author] = head.split('\0') as [string, string];
  const inside = paths
    .map((p) => relative(root, resolve(p)))
    .filter((p) => !p.startsWith('..'))
    .map((p) => p || '.');
  const status = await git(root, [
    'status',
    '--porcelain',
    '--untracked-files=all',
    '--',
    ...inside,
  ]);
  return { root, commit, author, dirty: status === undefined || status.length > 0 };
}

/** The commit as stored with a version: `<sha>`, or `<sha>-dirty` for a changed tree. */
export function commitLabel(provenance: GitProvenance): string {
  return provenance.dirty ? `${provenance.commit}-dirty` : provenance.commit;
}
