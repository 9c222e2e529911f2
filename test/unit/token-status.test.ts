/**
 * A token's state and warning: revoked wins over everything, an expiry at or before now has
 * expired, one within the warning window is expiring with the time left, and the spans read
 * like a person would say them.
 */
import fc from 'fast-check';
import { isLive, roughSpan, tokenStatus } from '../../src/gateway/services/token-status';

const DAY = 86_400_000;
const now = new Date('2026-12-06T12:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms);

describe('tokenStatus', () => {
  test.each([
    ['no expiry', { expiresAt: null, revokedAt: null }, { state: 'active' }],
    ['ends in 20 days', { expiresAt: at(20 * DAY), revokedAt: null }, { state: 'active' }],
    [
      'ends in 14 days exactly',
      { expiresAt: at(14 * DAY), revokedAt: null },
      { state: 'expiring', warning: 'expires in 14d' },
    ],
    [
      'ends in 3 days 4 hours',
      { expiresAt: at(3 * DAY + 4 * 3_600_000 + 1), revokedAt: null },
      { state: 'expiring', warning: 'expires in 3d 4h' },
    ],
    [
      'ends now',
      { expiresAt: at(0), revokedAt: null },
      { state: 'expired', warning: 'expired 0s ago' },
    ],
    [
      'ended 2 hours 5 minutes ago',
      { expiresAt: at(-(2 * 3_600_000 + 5 * 60_000)), revokedAt: null },
      { state: 'expired', warning: 'expired 2h 5m ago' },
    ],
    [
      'revoked, and expired too',
      { expiresAt: at(-DAY), revokedAt: at(-2 * DAY) },
      { state: 'revoked', warning: 'revoked' },
    ],
    [
      'revoked, no expiry',
      { expiresAt: null, revokedAt: at(-1) },
      { state: 'revoked', warning: 'revoked' },
    ],
  ])('%s', (_name, token, expected) => {
    expect(tokenStatus(token, now, 14 * DAY)).toEqual(expected);
  });

  test('expiring exactly when the end is in (0, warn]; expired at or before now; live tells them apart', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -400 * DAY, max: 400 * DAY }),
        fc.integer({ min: 0, max: 365 * DAY }),
        fc.boolean(),
        (left, warn, revoked) => {
          const s = tokenStatus(
            { expiresAt: at(left), revokedAt: revoked ? at(-1) : null },
            now,
            warn,
          );
          if (revoked) expect(s.state).toBe('revoked');
          else if (left <= 0) expect(s.state).toBe('expired');
          else if (left <= warn) expect(s.state).toBe('expiring');
          else expect(s.state).toBe('active');
          expect(s.warning === undefined).toBe(s.state === 'active');
          expect(isLive(s.state)).toBe(s.state === 'active' || s.state === 'expiring');
        },
      ),
    );
  });
});

describe('roughSpan', () => {
  test.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [3_599_999, '59m'],
    [3_600_000, '1h'],
    [3_660_000, '1h 1m'],
    [DAY - 1, '23h 59m'],
    [DAY, '1d'],
    [DAY + 3_600_000, '1d 1h'],
    [-(DAY + 3_600_000), '1d 1h'],
  ])('%d ms is %s', (ms, text) => {
    expect(roughSpan(ms)).toBe(text);
  });

  test('two units at most, the larger first, never zero in the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (ms) => {
        expect(roughSpan(ms)).toMatch(/^(\d+d( [1-9]\d*h)?|\d+h( [1-9]\d*m)?|\d+m|\d+s)$/);
        expect(roughSpan(ms)).toBe(roughSpan(-ms));
      }),
    );
  });
});
