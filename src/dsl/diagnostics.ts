/**
 * Compile errors: where (file, line, column, JSON pointer into the document) and what, worded
 * so a platform engineer can act on it. Every check reports into a list; nothing throws, so one
 * pass shows every problem.
 */

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** RFC 6901 pointer into the YAML document, when the problem has a place in it. */
  pointer?: string;
  /** A stable identifier of the kind of problem, for tools (`unknown-op`, `yaml-syntax`). */
  code: string;
  message: string;
}

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

/** `['steps', 2, 'action', 'op']` → `/steps/2/action/op`. */
export function toPointer(path: Path): string {
  return path.map((seg) => '/' + String(seg).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** `file:line:column: error at /pointer: message` — the format `idflow validate` prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.pointer === undefined ? '' : ` at ${d.pointer === '' ? '(document)' : d.pointer}`;
  return `${d.file}:${d.line}:${d.column}: error${where}: ${d.message}`;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    a.message.localeCompare(b.message)
  );
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/** The candidate closest to `input`, if it is close enough to be a likely typo. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = input.toLowerCase();
  for (const candidate of candidates) {
    const distance = levenshtein(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(input.length / 3));
  return best !== undefined && bestDistance <= limit && bestDistance > 0 ? best : undefined;
}

/** `; did you mean 'x'?` when one candidate is close to `input`, else the empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = closest(input, candidates);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}

/** A value as it reads in a message: text as is, anything else as JSON. */
export function show(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/** `'a', 'b' or 'c'`, for messages listing what is allowed. */
export function listNames(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** A "did you mean" for a near miss, else the known names when there are few, else nothing. */
export function suggest(input: string, candidates: Iterable<string>, noun = 'known'): string {
  const names = [...candidates];
  const near = didYouMean(input, names);
  if (near) return near;
  if (names.length === 0) return '';
  return names.length <= 8 ? `; ${noun}: ${names.join(', ')}` : '';
}
