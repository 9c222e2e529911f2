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

/**
 * Characters that must not reach a terminal or a CI log raw: C0 and C1 controls (ESC starts
 * terminal escape sequences, a newline starts a forged line or annotation), DEL, and the
 * invisible direction and line-separator marks that make text read other than it is.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with control characters written as escapes (`\n`, `\u001b`): safe to print. */
export function escapeControl(text: string): string {
  return text.replace(
    CONTROL,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A diagnostic whose text parts (file, pointer, message) are safe to print. Every diagnostic is
 * made through this: file names, keys and values come from users.
 */
export function diagnostic(d: Diagnostic): Diagnostic {
  return {
    ...d,
    file: escapeControl(d.file),
    ...(d.pointer === undefined ? {} : { pointer: escapeControl(d.pointer) }),
    message: escapeControl(d.message),
  };
}

/** A diagnostic for a whole file (unreadable, too big): placed at its first character. */
export function fileDiagnostic(file: string, code: string, message: string): Diagnostic {
  return diagnostic({ file, line: 1, column: 1, endLine: 1, endColumn: 1, code, message });
}

/** `file:line:column: error at /pointer: message` — the format `idflow validate` prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const safe = diagnostic(d);
  const where =
    safe.pointer === undefined ? '' : ` at ${safe.pointer === '' ? '(document)' : safe.pointer}`;
  return `${safe.file}:${d.line}:${d.column}: error${where}: ${safe.message}`;
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
