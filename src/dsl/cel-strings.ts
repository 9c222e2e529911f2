/**
 * CEL's string functions on Unicode code points, as the CEL spec and its strings extension
 * define them. JavaScript strings count UTF-16 units, so slicing them by index can cut an emoji
 * or an astral-plane letter in two and leave a lone surrogate, which PostgreSQL, JSON consumers
 * and directories refuse. Everything here iterates by code point (`Array.from`, `for..of`): no
 * `Intl`, no Node built-ins, deterministic inside workflows.
 */

/** Indexes are CEL ints (BigInt); a plain number is accepted for direct callers. */
type Index = bigint | number;

/** A CEL function given an argument out of range (an index past the end, a negative count). */
export class StringRangeError extends RangeError {
  override readonly name = 'StringRangeError';
}

/** The code points of `text`; a lone surrogate in it is a code point of its own. */
function codePoints(text: string): string[] {
  return Array.from(text);
}

/** Where `search` (as code points) starts in `points` at or after `from`, or -1. */
function findForward(points: string[], search: string[], from: number): number {
  for (let i = from; i + search.length <= points.length; i++) {
    if (search.every((c, j) => points[i + j] === c)) return i;
  }
  return -1;
}

/** Where `search` (as code points) last starts in `points` at or before `from`, or -1. */
function findBackward(points: string[], search: string[], from: number): number {
  for (let i = Math.min(from, points.length - search.length); i >= 0; i--) {
    if (search.every((c, j) => points[i + j] === c)) return i;
  }
  return -1;
}

function outOfRange(fn: string, what: string, index: Index, size: number): StringRangeError {
  return new StringRangeError(
    `${fn}: ${what} ${index} is out of range for a text of ${size} characters`,
  );
}

/** `s.substring(start)` and `s.substring(start, end)`: code points `[start, end)`. */
export function substring(text: string, start: Index, end?: Index): string {
  const points = codePoints(text);
  if (start < 0 || start > points.length) {
    throw outOfRange('substring', 'start', start, points.length);
  }
  if (end === undefined) return points.slice(Number(start)).join('');
  if (end < start || end > points.length) {
    throw outOfRange('substring', 'end', end, points.length);
  }
  return points.slice(Number(start), Number(end)).join('');
}

/**
 * `s.indexOf(search)` and `s.indexOf(search, from)`: the code-point index of the first
 * occurrence at or after `from`, or -1. An empty search is found where the search starts.
 */
export function indexOf(text: string, search: string, from?: Index): bigint {
  if (from === undefined) return BigInt(findForward(codePoints(text), codePoints(search), 0));
  if (search === '') return BigInt(from);
  const points = codePoints(text);
  if (from < 0 || from >= points.length) {
    throw outOfRange('indexOf', 'position', from, points.length);
  }
  return BigInt(findForward(points, codePoints(search), Number(from)));
}

/**
 * `s.lastIndexOf(search)` and `s.lastIndexOf(search, from)`: the code-point index of the last
 * occurrence starting at or before `from`, or -1. An empty search is found where the search
 * starts (the end of the text without `from`).
 */
export function lastIndexOf(text: string, search: string, from?: Index): bigint {
  const points = codePoints(text);
  if (from === undefined) {
    return BigInt(findBackward(points, codePoints(search), points.length));
  }
  if (search === '') return BigInt(from);
  if (from < 0 || from >= points.length) {
    throw outOfRange('lastIndexOf', 'position', from, points.length);
  }
  return BigInt(findBackward(points, codePoints(search), Number(from)));
}

/** `s.lowerAscii()`: A–Z become a–z; every other character stays as it is. */
export function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** `s.upperAscii()`: a–z become A–Z; every other character stays as it is. */
export function upperAscii(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/**
 * Unicode's White_Space characters, which CEL's `trim` removes (JavaScript's own `trim` also
 * removes U+FEFF, which is not white space, and keeps U+0085, which is).
 */
const SPACE =
  '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+';
const EDGE_SPACE = new RegExp(`^${SPACE}|${SPACE}$`, 'g');

/** `s.trim()`: leading and trailing white space removed. */
export function trim(text: string): string {
  return text.replace(EDGE_SPACE, '');
}

/**
 * `s.split(separator)` and `s.split(separator, limit)`: an empty separator splits into code
 * points; a limit of 0 gives no parts, a negative one all of them, and a positive one at most
 * that many, the last holding the rest of the text.
 */
export function split(text: string, separator: string, limit: Index = -1): string[] {
  if (Number(limit) === 0) return [];
  const parts = separator === '' ? codePoints(text) : text.split(separator);
  if (limit < 0 || parts.length <= limit) return parts;
  const n = Number(limit);
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(separator)];
}

/**
 * `s.replace(search, replacement)`: every occurrence replaced; an empty search matches before
 * and after each code point, as in CEL's strings extension.
 */
export function replace(text: string, search: string, replacement: string): string {
  if (search !== '') return text.split(search).join(replacement);
  return (
    replacement +
    codePoints(text)
      .map((c) => c + replacement)
      .join('')
  );
}

/**
 * `s.matches(pattern)`: the pattern matches code points (`.` is one character, an emoji
 * included), as RE2 does. A pattern that only JavaScript's legacy syntax accepts keeps that
 * meaning rather than becoming an error.
 */
export function matches(text: string, pattern: string): boolean {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
  } catch {
    try {
      regex = new RegExp(pattern);
    } catch {
      throw new SyntaxError(`matches: the pattern is not a valid regular expression`);
    }
  }
  return regex.test(text);
}

/** Half of a character: a UTF-16 surrogate without its partner. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `text` holds a lone surrogate, which no JSON store or directory accepts. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}
