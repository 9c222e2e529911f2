/**
 * Usernames from names as HR sends them: any script, punctuation, suffixes, emoji. A username
 * holds only `[a-z0-9.-]`, starts and ends with a letter or digit, and fits the target's length
 * limit; the same name always gives the same candidates, so a retried or replayed derivation
 * lands on the same account. Which candidate is free is the directory's to say (deriveUsername).
 * Pure: no I/O.
 */
import { asciiFold } from '../../src/dsl/cel-functions';

/** sAMAccountName's limit, the tightest common one. */
export const DEFAULT_USERNAME_LENGTH = 20;

/** Letters NFKD leaves alone and asciiFold does not spell out. */
const MORE: Readonly<Record<string, string>> = {
  ı: 'i',
  ð: 'd',
  ħ: 'h',
  ŧ: 't',
  ŋ: 'n',
  ĸ: 'k',
  ŀ: 'l',
};

/** `text` folded to ASCII, lower case, with only the characters in `keep` left. */
function fold(text: string, keep: RegExp): string {
  return asciiFold(text.toLowerCase())
    .toLowerCase()
    .replace(/[ıðħŧŋĸŀ]/g, (c) => MORE[c] ?? '')
    .replace(keep, '');
}

/** Separators collapsed to one, none at either end. */
function trimmed(text: string): string {
  return text.replace(/[.-]*([.-])[.-]*/g, '$1').replace(/^[.-]+|[.-]+$/g, '');
}

/** FNV-1a, 32 bits: a short stable name for a value with no usable characters at all. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const ch of text) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/** A name part as a username holds it: `O'Brien-Smith, Jr` → `obrien-smithjr`. */
export function namePart(text: string): string {
  return trimmed(fold(text, /[^a-z0-9-]/g));
}

/**
 * The first candidate: initial of the given name and the family name (`jsmith`); one of them
 * alone when the other has no usable character (`madonna`). Where neither has a letter (a name in a script without an ASCII folding), the owner's value
 * sanitised (`p-1001`), else `u` and a hash of it: always a valid, stable username.
 */
export function usernameBase(
  givenName: string,
  familyName: string,
  owner: string,
  maxLength = DEFAULT_USERNAME_LENGTH,
): string {
  const given = namePart(givenName);
  const family = namePart(familyName);
  // one part missing (a mononym, a script without folding): the other part whole
  let base = given && family ? trimmed(given.charAt(0) + family) : given || family;
  if (!/[a-z]/.test(base)) base = trimmed(fold(owner, /[^a-z0-9.-]/g));
  if (!base) base = `u${fnv1a(owner)}`;
  return trimmed(base.slice(0, maxLength));
}

/** The n-th candidate (1-based): `jsmith`, `jsmith2`, …, shortened to fit `maxLength`. */
export function usernameCandidate(
  base: string,
  n: number,
  maxLength = DEFAULT_USERNAME_LENGTH,
): string {
  if (n <= 1) return trimmed(base.slice(0, maxLength));
  const suffix = String(n);
  return trimmed(base.slice(0, Math.max(0, maxLength - suffix.length))) + suffix;
}
