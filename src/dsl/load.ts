/**
 * Reads definition files: each path is a YAML file or a directory searched recursively for
 * `*.yaml` / `*.yml`, in a stable order so compiling is deterministic.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Source } from './compiler';
import type { Diagnostic } from './diagnostics';

const YAML_FILE = /\.ya?ml$/i;

async function expand(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.isDirectory() || YAML_FILE.test(e.name))
      .map((e) =>
        e.isDirectory() ? expand(join(path, e.name)) : Promise.resolve([join(path, e.name)]),
      ),
  );
  return nested.flat();
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
  const files = new Set<string>();
  for (const path of paths) {
    try {
      for (const file of await expand(path)) files.add(file);
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'no such file or directory'
          : (err as Error).message;
      diagnostics.push({
        file: display(path),
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        code: 'unreadable',
        message: reason,
      });
    }
  }
  const sorted = [...files].sort();
  const sources = await Promise.all(
    sorted.map(async (file) => ({ path: display(file), text: await readFile(file, 'utf8') })),
  );
  return { sources, diagnostics };
}
