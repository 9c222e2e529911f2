/** Helpers for tests that compile definitions from the repository or from strings. */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compileSources, type CompileResult } from '../../src/dsl/compiler';
import { formatDiagnostic } from '../../src/dsl/diagnostics';
import { loadSources } from '../../src/dsl/load';

export const ROOT = join(__dirname, '..', '..');

/** Compiles files or directories given relative to the repository root. */
export async function compileRepoPaths(...paths: string[]): Promise<CompileResult> {
  const { sources, diagnostics } = await loadSources(paths.map((p) => join(ROOT, p)));
  const result = compileSources(
    sources.map((s) => ({ ...s, path: relative(ROOT, join(process.cwd(), s.path)) })),
  );
  result.diagnostics.unshift(...diagnostics);
  return result;
}

/** Compiles YAML text as one file named `path`. */
export function compileText(text: string, path = 'test.yaml'): CompileResult {
  return compileSources([{ path, text }]);
}

export function formatted(result: CompileResult): string[] {
  return result.diagnostics.map(formatDiagnostic);
}

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}
