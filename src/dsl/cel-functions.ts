/**
 * Functions idflow adds to CEL, registered identically in the compile-time (typed) and run-time
 * environments so that what type-checks also evaluates. All pure and deterministic: they run
 * inside workflows. String functions count and cut on Unicode code points (see cel-strings.ts),
 * including the library's own, which count UTF-16 units and are replaced here.
 */
import type { Environment } from '@marcbachmann/cel-js';
import * as strings from './cel-strings';

/** Letters that Unicode decomposition does not reduce to ASCII, as used in usernames. */
const FOLD: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  þ: 'th',
  Þ: 'Th',
};

/** `"Zoë Ørsted".asciiFold()` → `"Zoe Orsted"`: accents dropped, ligatures spelled out. */
export function asciiFold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[ßæÆœŒøØłŁđĐþÞ]/g, (c) => FOLD[c] ?? c);
}

const DAY_MS = 86_400_000;

/**
 * Whole calendar days (UTC) from the date of `from` to the date of `to`: `daysBetween` in CEL.
 * Dates, not 24-hour spans, so "expires in 7 days" holds all day long, whatever the hour.
 */
export function daysBetween(from: Date, to: Date): number {
  return Math.floor(to.getTime() / DAY_MS) - Math.floor(from.getTime() / DAY_MS);
}

/** An overload as cel-js keeps it, as far as replacing one needs. */
interface Overload {
  signature: string;
  handler: unknown;
}

type StringHandler = (text: string, ...args: never[]) => unknown;

/**
 * cel-js's string overloads that count UTF-16 units, with the code-point version idflow uses
 * instead. (`size`, `startsWith`, `endsWith`, `contains` and `join` already work on whole
 * characters and stay as they are.)
 */
const CODE_POINT_OVERLOADS: ReadonlyArray<{ signature: string; handler: StringHandler }> = [
  {
    signature: 'string.substring(int): string',
    handler: (s, start: bigint) => strings.substring(s, start),
  },
  {
    signature: 'string.substring(int, int): string',
    handler: (s, start: bigint, end: bigint) => strings.substring(s, start, end),
  },
  {
    signature: 'string.indexOf(string): int',
    handler: (s, search: string) => strings.indexOf(s, search),
  },
  {
    signature: 'string.indexOf(string, int): int',
    handler: (s, search: string, from: bigint) => strings.indexOf(s, search, from),
  },
  {
    signature: 'string.lastIndexOf(string): int',
    handler: (s, search: string) => strings.lastIndexOf(s, search),
  },
  {
    signature: 'string.lastIndexOf(string, int): int',
    handler: (s, search: string, from: bigint) => strings.lastIndexOf(s, search, from),
  },
  { signature: 'string.lowerAscii(): string', handler: (s) => strings.lowerAscii(s) },
  { signature: 'string.upperAscii(): string', handler: (s) => strings.upperAscii(s) },
  { signature: 'string.trim(): string', handler: (s) => strings.trim(s) },
  {
    signature: 'string.split(string): list<string>',
    handler: (s, separator: string) => strings.split(s, separator),
  },
  {
    signature: 'string.split(string, int): list<string>',
    handler: (s, separator: string, limit: bigint) => strings.split(s, separator, limit),
  },
  {
    signature: 'string.matches(string): bool',
    handler: (s, pattern: string) => strings.matches(s, pattern),
  },
];

/** A call of the overload `signature` with placeholder arguments, e.g. `"".substring(0, 0)`. */
function probeFor(signature: string): string {
  const call = /^string\.(\w+)\(([^)]*)\)/.exec(signature);
  const [, name = '', params = ''] = call ?? [];
  const args = params ? params.split(', ').map((type) => (type === 'int' ? '0' : '""')) : [];
  return `"".${name}(${args.join(', ')})`;
}

/**
 * The overloads `env` chooses from for the method in `signature`. cel-js offers no way to
 * replace a built-in overload, so this reads the list the type checker attaches to a checked
 * call; a cel-js release that changes that fails here, loudly, rather than evaluating on UTF-16.
 */
function overloadsOf(env: Environment, signature: string): Overload[] {
  const probe = env.parse(probeFor(signature));
  probe.check();
  const candidates = (probe.ast as { candidates?: { declarations?: unknown } }).candidates;
  const declarations = candidates?.declarations;
  if (!Array.isArray(declarations)) {
    throw new Error(`cannot replace cel-js's '${signature}': its overload list is not reachable`);
  }
  return declarations as Overload[];
}

/**
 * Makes `env` evaluate the string functions on code points: drops each UTF-16 overload of
 * cel-js and registers idflow's in its place. Idempotent. A clone that registers functions of
 * its own (a new object type brings a `type()` overload) rebuilds its overload lists from the
 * library's, so call this again on such a clone once it is declared.
 */
export function useCodePointStrings(env: Environment): Environment {
  for (const { signature, handler } of CODE_POINT_OVERLOADS) {
    const overloads = overloadsOf(env, signature);
    for (let i = overloads.length - 1; i >= 0; i--) {
      const overload = overloads[i] as Overload;
      if (overload.signature === signature && overload.handler !== handler) overloads.splice(i, 1);
    }
    if (!overloads.some((overload) => overload.handler === handler)) {
      env.registerFunction(signature, handler);
    }
  }
  return env;
}

/** How an environment treats text; see `registerIdflowFunctions`. */
export interface StringSemantics {
  /**
   * Count and cut on UTF-16 units, as idflow did before it followed CEL's code points: only for
   * replaying runs that evaluated expressions that way (the interpreter's patch decides).
   */
  utf16?: boolean;
}

/** Registers idflow's functions on `env` and makes its string functions count code points. */
export function registerIdflowFunctions(
  env: Environment,
  { utf16 = false }: StringSemantics = {},
): Environment {
  env
    .registerFunction({
      name: 'replace',
      receiverType: 'string',
      returnType: 'string',
      handler: utf16
        ? (text: string, search: string, replacement: string) =>
            text.split(search).join(replacement)
        : (text: string, search: string, replacement: string) =>
            strings.replace(text, search, replacement),
      params: [
        { name: 'search', type: 'string' },
        { name: 'replacement', type: 'string' },
      ],
      description:
        'Replaces every occurrence of search with replacement; an empty search matches between characters.',
    })
    .registerFunction({
      name: 'asciiFold',
      receiverType: 'string',
      returnType: 'string',
      handler: (text: string) => asciiFold(text),
      params: [],
      description: 'Drops accents and spells out ligatures, for usernames and mail addresses.',
    })
    .registerFunction({
      name: 'daysBetween',
      returnType: 'int',
      handler: (from: Date, to: Date) => BigInt(daysBetween(from, to)),
      params: [
        { name: 'from', type: 'google.protobuf.Timestamp' },
        { name: 'to', type: 'google.protobuf.Timestamp' },
      ],
      description:
        'Whole calendar days (UTC) from the date of `from` to the date of `to`; negative when `to` is earlier.',
    });
  return utf16 ? env : useCodePointStrings(env);
}
