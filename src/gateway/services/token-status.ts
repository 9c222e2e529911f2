/**
 * Where a token stands: active, expiring soon, expired or revoked, and the warning an operator
 * reads in `idflow tokens list` before a sender's token runs out. Pure, so it is tested alone.
 */

/** A token's state at an instant; `expiring` is active, with its end within the warning window. */
export type TokenState = 'active' | 'expiring' | 'expired' | 'revoked';

/** The fields of a token row its state depends on. */
export interface TokenTimes {
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** A token's state and, when it needs attention, the warning to show. */
export interface TokenStatus {
  state: TokenState;
  /** `expired 3d 4h ago`, `expires in 2d 1h`, `revoked`; absent for a token with nothing to tell. */
  warning?: string;
}

/** The default warning window of `idflow tokens list`: 14 days. */
export const DEFAULT_WARN_DAYS = 14;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A coarse span for people (`3d 4h`, `5h 12m`, `7m`, `40s`): two units at most. */
export function roughSpan(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= DAY) {
    const days = Math.floor(abs / DAY);
    const hours = Math.floor((abs % DAY) / HOUR);
    return hours ? `${days}d ${hours}h` : `${days}d`;
  }
  if (abs >= HOUR) {
    const hours = Math.floor(abs / HOUR);
    const minutes = Math.floor((abs % HOUR) / MINUTE);
    return minutes ? `${hours}h ${minutes}m` : `${hours}h`;
  }
  if (abs >= MINUTE) return `${Math.floor(abs / MINUTE)}m`;
  return `${Math.floor(abs / 1000)}s`;
}

/**
 * The state of a token at `now`, warning when it has expired or ends within `warnMs`. A revoked
 * token is `revoked` whatever its expiry; a token expiring exactly at `now` has expired (the
 * gateway refuses it from that instant).
 */
export function tokenStatus(token: TokenTimes, now: Date, warnMs: number): TokenStatus {
  if (token.revokedAt) return { state: 'revoked', warning: 'revoked' };
  if (!token.expiresAt) return { state: 'active' };
  const left = token.expiresAt.getTime() - now.getTime();
  if (left <= 0) return { state: 'expired', warning: `expired ${roughSpan(left)} ago` };
  if (left <= warnMs) return { state: 'expiring', warning: `expires in ${roughSpan(left)}` };
  return { state: 'active' };
}

/** Whether a token in `state` still authenticates. */
export function isLive(state: TokenState): boolean {
  return state === 'active' || state === 'expiring';
}
