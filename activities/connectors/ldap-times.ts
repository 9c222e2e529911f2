/**
 * The two time formats directories keep sign-in and password-change times in, parsed strictly:
 * LDAP GeneralizedTime (RFC 4517 §3.3.13; OpenLDAP's `authTimestamp` and `pwdChangedTime`) and
 * Windows FILETIME (100-nanosecond intervals since 1601-01-01 UTC, as decimal text; Active
 * Directory's `lastLogonTimestamp` and `pwdLastSet`). A value that is not exactly one of them is
 * refused with an error that names the attribute and the format, never the value: the value
 * belongs to a person.
 */

/** How a connector's `config.activity` says the directory writes its times. */
export type ActivityTimeFormat = 'generalizedTime' | 'fileTime';

/**
 * A value that is not a time of the expected format. Carries the attribute and the format only:
 * callers put its message in errors and logs, where the value (a person's data) must not go.
 */
export class MalformedTimeError extends Error {
  constructor(
    readonly attribute: string,
    readonly format: ActivityTimeFormat,
  ) {
    super(
      `attribute ${attribute} holds a value that is not ${
        format === 'fileTime' ? 'a Windows FILETIME' : 'an LDAP GeneralizedTime'
      } (config.activity.format ${format})`,
    );
    this.name = 'MalformedTimeError';
  }
}

/** Longest GeneralizedTime accepted: a fraction of any sane precision, an offset. */
const MAX_GENERALIZED = 40;

const GENERALIZED =
  /^(\d{4})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])(?:([0-5]\d)([0-5]\d|60)?)?(?:[.,](\d+))?(Z|[+-](?:[01]\d|2[0-3])(?:[0-5]\d)?)$/;

const MS_PER_HOUR = 3_600_000;
const MS_PER_MINUTE = 60_000;

/**
 * The instant a GeneralizedTime names (`20260714031200Z`, `202607140312Z`,
 * `20260714031200.5+0200`, …), to the millisecond (finer fractions are cut, never rounded up);
 * undefined when `text` is not one. A fraction applies to the last unit given, as RFC 4517
 * says; a leap second (`60`) is the next second.
 */
export function parseGeneralizedTime(text: string): Date | undefined {
  if (text.length > MAX_GENERALIZED) return undefined;
  const m = GENERALIZED.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string | undefined,
    string | undefined,
    string,
  ];
  const year = Number(y);
  const month = Number(mo) - 1;
  const day = Number(d);
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: years 0–99 are years, not 1900–1999
  date.setUTCFullYear(year, month, day);
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) return undefined; // 31 April
  date.setUTCHours(Number(h), Number(mi ?? 0), Number(s ?? 0), 0);
  let ms = date.getTime();
  if (fraction !== undefined) {
    const unit = s !== undefined ? 1000 : mi !== undefined ? MS_PER_MINUTE : MS_PER_HOUR;
    // digits beyond what a millisecond can hold do not matter: at most 9 are read
    const digits = fraction.slice(0, 9).padEnd(9, '0');
    ms += Math.floor((Number(digits) * unit) / 1e9);
  }
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offset = Number(zone.slice(1, 3)) * MS_PER_HOUR + Number(zone.slice(3, 5) || 0) * 60_000;
    ms -= sign * offset;
  }
  return new Date(ms);
}

/**
 * `date` as a GeneralizedTime in UTC: seconds always, a fraction only for milliseconds
 * (`20260714031200Z`, `20260714031200.250Z`). Years 0–9999 only (the format has four digits).
 */
export function formatGeneralizedTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999)
    throw new RangeError('GeneralizedTime holds years 0000 to 9999 only');
  const two = (n: number) => String(n).padStart(2, '0');
  const ms = date.getUTCMilliseconds();
  return (
    String(year).padStart(4, '0') +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    (ms ? `.${String(ms).padStart(3, '0')}` : '') +
    'Z'
  );
}

/** Milliseconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01 (JavaScript's). */
const FILETIME_EPOCH_MS = 11_644_473_600_000n;
const TICKS_PER_MS = 10_000n;
/** Active Directory's "never" besides 0: the largest signed 64-bit value. */
const FILETIME_NEVER = 0x7fff_ffff_ffff_ffffn;

/**
 * The instant a Windows FILETIME names, to the millisecond; null for Active Directory's "never"
 * (`0`, and `9223372036854775807`); undefined when `text` is not a FILETIME (not plain decimal
 * digits, negative, a leading zero, past 2^63 − 1).
 */
export function parseFileTime(text: string): Date | null | undefined {
  if (!/^(?:0|[1-9]\d{0,18})$/.test(text)) return undefined;
  const ticks = BigInt(text);
  if (ticks > FILETIME_NEVER) return undefined;
  if (ticks === 0n || ticks === FILETIME_NEVER) return null;
  // BigInt division truncates toward zero; ticks are positive, so this is the floor
  return new Date(Number(ticks / TICKS_PER_MS - FILETIME_EPOCH_MS));
}

/** `date` as a Windows FILETIME (decimal text); dates before 1601 cannot be written. */
export function formatFileTime(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('not a date');
  const ticks = (BigInt(ms) + FILETIME_EPOCH_MS) * TICKS_PER_MS;
  if (ticks <= 0n || ticks >= FILETIME_NEVER)
    throw new RangeError('a FILETIME holds times after 1601-01-01 only');
  return ticks.toString();
}

/**
 * The time `text` (the value of `attribute`) names in `format`: a Date, or null where the
 * format has a value for "never" (FILETIME's 0). Throws MalformedTimeError otherwise.
 */
export function parseActivityTime(
  attribute: string,
  format: ActivityTimeFormat,
  text: string,
): Date | null {
  const parsed = format === 'fileTime' ? parseFileTime(text) : parseGeneralizedTime(text);
  if (parsed === undefined) throw new MalformedTimeError(attribute, format);
  return parsed;
}

/** `date` in `format`, as a directory would hold it (test seeding, fixtures). */
export function formatActivityTime(format: ActivityTimeFormat, date: Date): string {
  return format === 'fileTime' ? formatFileTime(date) : formatGeneralizedTime(date);
}
