/**
 * Durations as written in definitions: one or more `<integer><unit>` parts, e.g. `30s`, `2h`,
 * `1h30m`, `5d`, `250ms`. Calendar units beyond weeks are left out on purpose: a month is not a
 * fixed number of milliseconds. Node-free: the interpreter and the compiler share it.
 */

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

type Unit = keyof typeof UNIT_MS;

/** Matches a whole duration string; used by the schema to reject bad durations early. */
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

const PART = /(\d+)(ms|s|m|h|d|w)/g;

/** Milliseconds in `text`, or `undefined` when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as Unit];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest duration string for `ms` (`90000` → `1m30s`), for messages and summaries. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  return parts.join('');
}
