/**
 * The directory time formats: GeneralizedTime (every form RFC 4517 allows, offsets, fractions
 * of the last unit given) and Windows FILETIME (Active Directory's "never" values), round trips
 * of both, and refusals of what is not exactly one of them — with an error that names the
 * attribute and never the value.
 */
import fc from 'fast-check';
import {
  formatFileTime,
  formatGeneralizedTime,
  MalformedTimeError,
  parseActivityTime,
  parseFileTime,
  parseGeneralizedTime,
} from '../../activities/connectors/ldap-times';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : d);

describe('GeneralizedTime', () => {
  test.each([
    ['20260714031200Z', '2026-07-14T03:12:00.000Z'],
    ['202607140312Z', '2026-07-14T03:12:00.000Z'],
    ['2026071403Z', '2026-07-14T03:00:00.000Z'],
    ['20260714031200.25Z', '2026-07-14T03:12:00.250Z'],
    ['20260714031200,5Z', '2026-07-14T03:12:00.500Z'],
    ['20260714031200.123456789Z', '2026-07-14T03:12:00.123Z'],
    ['202607140312.5Z', '2026-07-14T03:12:30.000Z'],
    ['2026071403.25Z', '2026-07-14T03:15:00.000Z'],
    ['20260714051200+0200', '2026-07-14T03:12:00.000Z'],
    ['20260714011200-02', '2026-07-14T03:12:00.000Z'],
    ['20260714001200-0330', '2026-07-14T03:42:00.000Z'],
    ['20161231235960Z', '2017-01-01T00:00:00.000Z'],
    ['20240229120000Z', '2024-02-29T12:00:00.000Z'],
    ['00010101000000Z', '0001-01-01T00:00:00.000Z'],
    ['00500615000000Z', '0050-06-15T00:00:00.000Z'],
  ])('%s is %s', (text, expected) => {
    expect(iso(parseGeneralizedTime(text))).toBe(expected);
  });

  test.each([
    ['', 'empty'],
    ['20260714031200', 'no time zone'],
    ['20260714031200z', 'a lower-case z'],
    ['2026-07-14T03:12:00Z', 'ISO 8601'],
    ['20261314031200Z', 'month 13'],
    ['20260014031200Z', 'month 0'],
    ['20260431031200Z', '31 April'],
    ['20250229120000Z', '29 February of a common year'],
    ['20260700031200Z', 'day 0'],
    ['20260714241200Z', 'hour 24'],
    ['20260714036000Z', 'minute 60'],
    ['20260714031261Z', 'second 61'],
    ['20260714031200.Z', 'a fraction without digits'],
    ['20260714031200+2400', 'an offset of 24 hours'],
    ['20260714031200+02000', 'an offset with five digits'],
    ['2026071403120Z', 'an odd number of digits'],
    [' 20260714031200Z', 'a leading space'],
    ['20260714031200Z ', 'a trailing space'],
    ['２０２６0714031200Z', 'full-width digits'],
    [`20260714031200.${'1'.repeat(40)}Z`, 'an absurdly long fraction'],
  ])('%s is refused (%s)', (text) => {
    expect(parseGeneralizedTime(text)).toBeUndefined();
  });

  test('formats UTC, with milliseconds only when there are some', () => {
    expect(formatGeneralizedTime(new Date('2026-07-14T03:12:00Z'))).toBe('20260714031200Z');
    expect(formatGeneralizedTime(new Date('2026-07-14T03:12:00.05Z'))).toBe('20260714031200.050Z');
    expect(formatGeneralizedTime(new Date('0099-01-02T03:04:05Z'))).toBe('00990102030405Z');
    expect(() => formatGeneralizedTime(new Date('+010000-01-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => formatGeneralizedTime(new Date(NaN))).toThrow(RangeError);
  });
});

describe('FILETIME', () => {
  test.each([
    ['133655000000000000', '2024-07-15T06:53:20.000Z'],
    ['116444736000000000', '1970-01-01T00:00:00.000Z'],
    ['116444736000009999', '1970-01-01T00:00:00.000Z'],
    ['116444736000010000', '1970-01-01T00:00:00.001Z'],
    ['1', '1601-01-01T00:00:00.000Z'],
  ])('%s is %s', (text, expected) => {
    expect(iso(parseFileTime(text))).toBe(expected);
  });

  test("Active Directory's never: 0 and the largest 64-bit value", () => {
    expect(parseFileTime('0')).toBeNull();
    expect(parseFileTime('9223372036854775807')).toBeNull();
  });

  test.each([
    ['', 'empty'],
    ['-1', 'negative'],
    ['0133655000000000000', 'a leading zero'],
    ['9223372036854775808', 'past 2^63 - 1'],
    ['99999999999999999999', 'twenty digits'],
    ['1.5e17', 'not decimal digits'],
    ['133655000000000000 ', 'a trailing space'],
    ['0x1d5d7f0e2c0b000', 'hexadecimal'],
    ['20260714031200Z', 'a GeneralizedTime'],
  ])('%s is refused (%s)', (text) => {
    expect(parseFileTime(text)).toBeUndefined();
  });

  test('formats ticks; nothing before 1601', () => {
    expect(formatFileTime(new Date('1970-01-01T00:00:00Z'))).toBe('116444736000000000');
    expect(() => formatFileTime(new Date('1600-12-31T23:59:59Z'))).toThrow(RangeError);
  });
});

describe('parseActivityTime', () => {
  test('a malformed value names the attribute and the format, never the value', () => {
    const secret = '19991231xyz-ada-lovelace';
    let thrown: unknown;
    try {
      parseActivityTime('pwdChangedTime', 'generalizedTime', secret);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MalformedTimeError);
    const message = (thrown as Error).message;
    expect(message).toContain('pwdChangedTime');
    expect(message).toContain('GeneralizedTime');
    expect(message).not.toContain(secret);
    expect(() => parseActivityTime('pwdLastSet', 'fileTime', 'never')).toThrow(
      /attribute pwdLastSet .* Windows FILETIME/,
    );
  });

  test('by format: a time, or null for never', () => {
    expect(iso(parseActivityTime('authTimestamp', 'generalizedTime', '20260714031200Z'))).toBe(
      '2026-07-14T03:12:00.000Z',
    );
    expect(parseActivityTime('lastLogonTimestamp', 'fileTime', '0')).toBeNull();
  });
});

describe('properties', () => {
  const RUNS = { numRuns: 500 };
  const generalizedDates = fc.date({
    min: new Date('0000-01-01T00:00:00.000Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  });
  const fileTimeDates = fc.date({
    min: new Date('1601-01-01T00:00:00.001Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  });

  test('GeneralizedTime round trip: format then parse is the same instant', () => {
    fc.assert(
      fc.property(generalizedDates, (date) => {
        expect(parseGeneralizedTime(formatGeneralizedTime(date))?.getTime()).toBe(date.getTime());
      }),
      RUNS,
    );
  });

  test('GeneralizedTime with an offset names the same instant as in UTC', () => {
    const offsets = fc.record({
      sign: fc.constantFrom(1, -1),
      hours: fc.integer({ min: 0, max: 23 }),
      minutes: fc.integer({ min: 0, max: 59 }),
    });
    const recent = fc.date({
      min: new Date('1900-01-02T00:00:00Z'),
      max: new Date('2999-12-30T00:00:00Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(recent, offsets, (date, { sign, hours, minutes }) => {
        const offsetMs = sign * (hours * 60 + minutes) * 60_000;
        const local = formatGeneralizedTime(new Date(date.getTime() + offsetMs)).slice(0, -1);
        const zone = `${sign > 0 ? '+' : '-'}${String(hours).padStart(2, '0')}${String(minutes).padStart(2, '0')}`;
        expect(parseGeneralizedTime(`${local}${zone}`)?.getTime()).toBe(date.getTime());
      }),
      RUNS,
    );
  });

  test('FILETIME round trip: format then parse is the same instant', () => {
    fc.assert(
      fc.property(fileTimeDates, (date) => {
        expect(parseFileTime(formatFileTime(date))?.getTime()).toBe(date.getTime());
      }),
      RUNS,
    );
  });

  test('FILETIME: sub-millisecond ticks are cut, never rounded up', () => {
    fc.assert(
      fc.property(fileTimeDates, fc.integer({ min: 0, max: 9_999 }), (date, ticks) => {
        const text = (BigInt(formatFileTime(date)) + BigInt(ticks)).toString();
        expect(parseFileTime(text)?.getTime()).toBe(date.getTime());
      }),
      RUNS,
    );
  });

  test('garbage is refused: any text with a character neither format has', () => {
    const garbage = fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .filter((s) => /[^0-9.,Z+-]/.test(s));
    fc.assert(
      fc.property(garbage, (text) => {
        expect(parseGeneralizedTime(text)).toBeUndefined();
        expect(parseFileTime(text)).toBeUndefined();
        expect(() => parseActivityTime('authTimestamp', 'generalizedTime', text)).toThrow(
          MalformedTimeError,
        );
      }),
      RUNS,
    );
  });

  test('garbage is refused: a valid GeneralizedTime with one character changed or dropped still parses only when it is valid', () => {
    const mutated = fc
      .tuple(generalizedDates, fc.nat(), fc.constantFrom('drop', 'digit', 'letter'))
      .map(([date, at, how]) => {
        const text = formatGeneralizedTime(date);
        const i = at % text.length;
        const replacement = how === 'drop' ? '' : how === 'digit' ? '9' : 'x';
        return text.slice(0, i) + replacement + text.slice(i + 1);
      });
    const grammar =
      /^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])(?:[0-5]\d(?:[0-5]\d|60)?)?(?:[.,]\d+)?(Z|[+-](?:[01]\d|2[0-3])(?:[0-5]\d)?)$/;
    fc.assert(
      fc.property(mutated, (text) => {
        const parsed = parseGeneralizedTime(text);
        if (!grammar.test(text)) expect(parsed).toBeUndefined();
        if (parsed) expect(Number.isFinite(parsed.getTime())).toBe(true);
      }),
      RUNS,
    );
  });

  test('FILETIME garbage: negative numbers and leading zeros are refused', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 62n }), (n) => {
        expect(parseFileTime(`-${n}`)).toBeUndefined();
        expect(parseFileTime(`0${n}`)).toBeUndefined();
      }),
      RUNS,
    );
  });
});
