/**
 * `idflow validate [paths…]`: compile definitions and report every problem. Exit status 1 on
 * any error. `--format json` prints the diagnostics for tools; `--format github` prints GitHub
 * Actions annotations.
 */
import type { Command } from 'commander';
import { compileSources, type CompileResult } from '../../dsl/compiler';
import {
  diagnostic,
  escapeControl,
  formatDiagnostic,
  type Diagnostic,
} from '../../dsl/diagnostics';
import { loadSources } from '../../dsl/load';

export const DEFAULT_DEFINITIONS = 'definitions';

/** Loads and compiles `paths`; shared by the commands that need compiled definitions. */
export async function compilePaths(
  paths: readonly string[],
): Promise<CompileResult & { documents: number }> {
  const { sources, diagnostics } = await loadSources(paths.length ? paths : [DEFAULT_DEFINITIONS]);
  const result = compileSources(sources);
  result.diagnostics.unshift(...diagnostics);
  return { ...result, documents: sources.length };
}

/** GitHub's escaping of an annotation's message. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** GitHub's escaping of an annotation's properties, where `,` and `:` separate fields. */
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One GitHub Actions annotation; user text is escaped first (see `diagnostic`). */
export function githubAnnotation(raw: Diagnostic): string {
  const d = diagnostic(raw);
  const props = [
    `file=${escapeProperty(d.file)}`,
    `line=${d.line}`,
    `col=${d.column}`,
    `endLine=${d.endLine}`,
    `endColumn=${d.endColumn}`,
    `title=${escapeProperty(`idflow ${d.code}`)}`,
  ].join(',');
  return `::error ${props}::${escapeData(d.pointer ? `${d.pointer}: ${d.message}` : d.message)}`;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check definitions (default: definitions/) and report every problem')
    .argument('[paths...]', 'YAML files or directories')
    .option('--format <format>', 'text, json or github', 'text')
    .action(async (paths: string[], options: { format: string }) => {
      if (!['text', 'json', 'github'].includes(options.format)) {
        throw new Error(
          `--format must be text, json or github, not '${escapeControl(options.format)}'`,
        );
      }
      const result = await compilePaths(paths);
      const { diagnostics } = result;
      if (options.format === 'json') {
        console.log(
          JSON.stringify(
            diagnostics.map((d) => ({ severity: 'error', ...diagnostic(d) })),
            null,
            2,
          ),
        );
      } else if (options.format === 'github') {
        diagnostics.forEach((d) => console.log(githubAnnotation(d)));
      } else {
        diagnostics.forEach((d) => console.log(formatDiagnostic(d)));
        const n = (count: number, one: string, many: string) =>
          `${count} ${count === 1 ? one : many}`;
        const counts = [
          n(result.flows.size, 'flow', 'flows'),
          n(result.policies.size, 'policy', 'policies'),
          n(result.connectors.size, 'connector', 'connectors'),
          // the access model is optional: counted once there is some
          ...(result.roles.size ? [n(result.roles.size, 'role', 'roles')] : []),
          ...(result.sodRules.size ? [n(result.sodRules.size, 'SoD rule', 'SoD rules')] : []),
          ...(result.correlations.size
            ? [n(result.correlations.size, 'correlation', 'correlations')]
            : []),
          ...(result.sources.size ? [n(result.sources.size, 'source', 'sources')] : []),
        ].join(', ');
        console.error(
          diagnostics.length
            ? `${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'} found`
            : `ok: ${counts} in ${n(result.documents, 'file', 'files')}`,
        );
      }
      if (diagnostics.length) process.exitCode = 1;
    });
}
