/**
 * Reads definition files: each path is a YAML file or a directory searched recursively for
 * `*.yaml` / `*.yml`, in a stable order so compiling is deterministic.
 *
 * Only regular files are read, and only up to the size limit: each file is stat'ed before it is
 * opened, so a FIFO, device or socket that happens to be named `x.yaml` is never opened (an
 * open would block), a 50 MB file is refused without reading a byte, and a link that is dangling,
 * loops or leads to a directory is reported. Every such problem is one diagnostic for that path;
 * the other files are still read.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Source } from './compiler';
import { fileDiagnostic, type Diagnostic } from './diagnostics';
import { formatBytes, MAX_FILE_BYTES } from './limits';

const YAML_FILE = /\.ya?ml$/i;
const CHUNK = 64 * 1024;

/** Why a path could not be read, worded from the error's code (never the library's text). */
async function reason(path: string, err: unknown): Promise<string> {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': {
      const link = await lstat(path).then(
        (info) => info.isSymbolicLink(),
        () => false,
      );
      return link
        ? 'is a symbolic link to a file that does not exist'
        : 'no such file or directory';
    }
    case 'ELOOP':
      return 'is a symbolic link that loops (it leads back to itself)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'no such file or directory (a part of the path is not a directory)';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return `cannot be read (${code ?? 'unknown error'})`;
  }
}

function whatItIs(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

type Read = { text: string } | { code: string; message: string };

function tooLarge(size: string): Read {
  return {
    code: 'file-too-large',
    message: `is ${size}; definition files may be at most ${formatBytes(MAX_FILE_BYTES)}, so split it`,
  };
}

/**
 * The text of one definition file, or why it was not read. `linked` says the path came from a
 * directory listing as a symbolic link, for the wording.
 */
async function readDefinition(path: string, linked: boolean): Promise<Read> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    return { code: 'unreadable', message: await reason(path, err) };
  }
  if (!info.isFile()) {
    const what = whatItIs(info);
    return {
      code: 'not-a-file',
      message: linked
        ? `is a symbolic link to ${what}; only regular files (or links to them) are read`
        : `is ${what}, not a regular file; only regular files are read`,
    };
  }
  if (info.size > MAX_FILE_BYTES) return tooLarge(formatBytes(info.size));
  let handle;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the stat, opening it cannot hang.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { code: 'unreadable', message: await reason(path, err) };
  }
  try {
    const now = await handle.stat();
    if (!now.isFile() || now.ino !== info.ino || now.dev !== info.dev) {
      return { code: 'unreadable', message: 'changed while it was being read; run again' };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_FILE_BYTES) return tooLarge(`over ${formatBytes(MAX_FILE_BYTES)}`);
    }
    return { text: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    return { code: 'unreadable', message: await reason(path, err) };
  } finally {
    await handle.close();
  }
}

interface Candidate {
  path: string;
  /** Listed in a directory as a symbolic link. */
  linked: boolean;
}

/**
 * The YAML files under a directory. Links inside it are read when they lead to a regular
 * file and reported otherwise; links to directories are not followed, so no loop can form.
 */
async function scan(root: string, report: (path: string, message: string) => void) {
  const found: Candidate[] = [];
  const pending = [root];
  while (pending.length) {
    const dir = pending.pop() as string;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      report(dir, await reason(dir, err));
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (YAML_FILE.test(entry.name)) found.push({ path, linked: entry.isSymbolicLink() });
    }
  }
  return found;
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** Reads every definition file under `paths`; unreadable paths come back as diagnostics. */
export async function loadSources(
  paths: readonly string[],
): Promise<{ sources: Source[]; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const report = (path: string, message: string, code = 'unreadable') =>
    diagnostics.push(fileDiagnostic(display(path), code, message));
  const files = new Map<string, Candidate>();
  for (const path of paths) {
    let info: Stats;
    try {
      info = await stat(path);
    } catch (err) {
      report(path, await reason(path, err));
      continue;
    }
    const found = info.isDirectory() ? await scan(path, report) : [{ path, linked: false }];
    for (const candidate of found) files.set(candidate.path, candidate);
  }
  const sorted = [...files.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  const sources: Source[] = [];
  const read = await Promise.all(sorted.map((c) => readDefinition(c.path, c.linked)));
  read.forEach((result, i) => {
    const path = (sorted[i] as Candidate).path;
    if ('text' in result) sources.push({ path: display(path), text: result.text });
    else report(path, result.message, result.code);
  });
  return { sources, diagnostics };
}
