/**
 * API tokens. A token is shown once, when it is created; only its SHA-256 is stored. Each token
 * has scopes (what it may do), may belong to a person (approvers act as themselves) and may be
 * bound to an event source (it sends only that source's events). Lookups are cached briefly, so
 * a revoked token stops working within `cacheMs`; an expiry is honoured to the millisecond.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../db/client';
import { isDatabaseUnavailable } from '../../db/errors';
import { appendAudit } from '../../db/repos/audit';
import {
  expireTokenAt,
  findTokenByHash,
  findTokenById,
  findTokensByName,
  insertToken,
  listTokens,
  revokeToken,
  touchToken,
  type TokenRow,
} from '../../db/repos/tokens';
import { UnavailableProblem } from '../problems';
import { isLive, tokenStatus, type TokenStatus } from './token-status';

export const SCOPES = [
  'events:write',
  'events:read',
  'runs:read',
  'runs:operate',
  'approvals',
  'persons:read',
  'review:read',
  'review:write',
  'audit:read',
  'metrics:read',
  'plan',
  'payloads:decode',
  'payloads:encode',
  'scim:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tokenId: string;
  name: string;
  scopes: ReadonlySet<string>;
  personId?: string;
  /** The event source the token sends as: it may send no other source's events. */
  source?: string;
}

/** Why a presented token was refused (never the token itself). */
export type TokenRefusal = 'unknown-token' | 'revoked-token' | 'expired-token';

/** A presented token's principal, or why it was refused and, when the token is known, its id. */
export type TokenCheck =
  | { ok: true; principal: Principal }
  | { ok: false; reason: TokenRefusal; tokenId?: string; tokenName?: string };

/** A token as listed: its row without the hash, with its state and warning at that moment. */
export type TokenOverview = Omit<TokenRow, 'tokenHash'> & TokenStatus;

/** A rotation or lookup that cannot be done, said so an operator can act (ids and names only). */
export class TokenError extends Error {
  override readonly name = 'TokenError';
}

/** Token lookups kept at most (each a hash and a row). */
const MAX_CACHED = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What newToken makes; anything else is no idflow token. */
const TOKEN_FORMAT = /^idf_[A-Za-z0-9_-]{43}$/;

/** `idf_` and 43 characters of base64url: 256 random bits. */
export function newToken(): string {
  return `idf_${randomBytes(32).toString('base64url')}`;
}

function principalOfRow(row: TokenRow): Principal {
  return {
    tokenId: row.id,
    name: row.name,
    scopes: new Set(row.scopes),
    ...(row.personId ? { personId: row.personId } : {}),
    ...(row.source ? { source: row.source } : {}),
  };
}

function checkOf(row: TokenRow | undefined, now: number): TokenCheck {
  if (!row) return { ok: false, reason: 'unknown-token' };
  const known = { tokenId: row.id, tokenName: row.name };
  if (row.revokedAt) return { ok: false, reason: 'revoked-token', ...known };
  if (row.expiresAt && row.expiresAt.getTime() <= now)
    return { ok: false, reason: 'expired-token', ...known };
  return { ok: true, principal: principalOfRow(row) };
}

export class TokenService {
  private readonly cache = new Map<string, { at: number; row?: TokenRow }>();

  constructor(
    private readonly db: Database,
    private readonly cacheMs = 5_000,
  ) {}

  /** The principal of `token`, or undefined when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const check = await this.verify(token);
    return check.ok ? check.principal : undefined;
  }

  /**
   * The principal of `token`, or why it is refused: unknown, revoked or expired (with the id of
   * a known token, for the audit trail). The row is cached for `cacheMs`; its expiry is checked
   * on every call, so a token stops working the moment it ends.
   */
  async verify(token: string): Promise<TokenCheck> {
    // a string idflow never issues is refused without a lookup: garbage costs no query
    if (!TOKEN_FORMAT.test(token)) return { ok: false, reason: 'unknown-token' };
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    const now = Date.now();
    if (cached && now - cached.at < this.cacheMs) return checkOf(cached.row, now);
    let row: TokenRow | undefined;
    try {
      row = await findTokenByHash(this.db, hash);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw new UnavailableProblem('PostgreSQL');
      throw err;
    }
    // unknown tokens are cached too (a token sent again costs no lookup); a flood of made-up
    // ones empties the cache rather than growing it
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(hash, row ? { at: now, row } : { at: now });
    const check = checkOf(row, now);
    if (check.ok && (!row?.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000)) {
      touchToken(this.db, check.principal.tokenId).catch(() => undefined);
    }
    return check;
  }

  /** Creates a token; the plain token is returned once and never stored. */
  async create(input: {
    name: string;
    scopes: string[];
    personId?: string;
    /** The event source the token sends as (its events must be of this source). */
    source?: string;
    expiresAt?: Date;
    actor: string;
  }): Promise<{ token: string; row: TokenRow }> {
    const token = newToken();
    const row = await insertToken(this.db, {
      name: input.name,
      tokenHash: hashToken(token),
      scopes: input.scopes,
      ...(input.personId ? { personId: input.personId } : {}),
      ...(input.source ? { source: input.source } : {}),
      ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
    });
    await appendAudit(this.db, {
      actor: input.actor,
      action: 'token.created',
      target: `token:${row.id}`,
      outcome: 'ok',
      detail: {
        name: input.name,
        scopes: input.scopes,
        ...(input.personId ? { personId: input.personId } : {}),
        ...(input.source ? { source: input.source } : {}),
        ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}),
      },
    });
    return { token, row };
  }

  list(): Promise<TokenRow[]> {
    return listTokens(this.db);
  }

  /** Every token with its state at `now`, warning for those expired or ending within `warnMs`. */
  async overview(now: Date, warnMs: number): Promise<TokenOverview[]> {
    return (await listTokens(this.db)).map(({ tokenHash: _hash, ...row }) => ({
      ...row,
      ...tokenStatus(row, now, warnMs),
    }));
  }

  async revoke(id: string, actor: string): Promise<boolean> {
    const done = UUID.test(id) && (await revokeToken(this.db, id));
    await appendAudit(this.db, {
      actor,
      action: 'token.revoked',
      target: `token:${id}`,
      outcome: done ? 'ok' : 'failed',
    });
    this.cache.clear();
    return done;
  }

  /**
   * The token an operator names by id or by name: by name, the one live token of that name.
   * Throws TokenError for none, several live ones, or one that is revoked or expired.
   */
  async resolveLive(idOrName: string, now: Date): Promise<TokenRow> {
    const rows = UUID.test(idOrName)
      ? [await findTokenById(this.db, idOrName)].filter((r): r is TokenRow => r !== undefined)
      : await findTokensByName(this.db, idOrName);
    if (rows.length === 0) throw new TokenError(`no token with id or name '${idOrName}'`);
    const live = rows.filter((r) => isLive(tokenStatus(r, now, 0).state));
    if (live.length > 1)
      throw new TokenError(
        `${live.length} live tokens are named '${idOrName}' (${live.map((r) => r.id).join(', ')}): name one by its id`,
      );
    if (live[0]) return live[0];
    const last = rows[rows.length - 1] as TokenRow;
    const state = tokenStatus(last, now, 0).state;
    const when = state === 'revoked' ? last.revokedAt : last.expiresAt;
    throw new TokenError(
      `token ${last.id} ('${last.name}') is ${state} since ${when?.toISOString()}: only a live token can be rotated; create a new one with 'idflow tokens create'`,
    );
  }

  /**
   * Replaces a live token with a new one of the same name, scopes, person and source, and ends
   * the old one: revoked at once, or (with `overlapMs`) expiring after the overlap so senders
   * can switch. The new token lives `expiresInMs`, or as long as the old one was meant to.
   * One transaction: both tokens change and `token.rotated` (both ids, never a token) is
   * audited, or nothing is.
   */
  async rotate(input: {
    token: string;
    overlapMs?: number;
    expiresInMs?: number;
    actor: string;
  }): Promise<{ token: string; row: TokenRow; old: TokenRow; oldEndsAt: Date }> {
    const now = new Date();
    const old = await this.resolveLive(input.token, now);
    const lifetime =
      input.expiresInMs ??
      (old.expiresAt ? old.expiresAt.getTime() - old.createdAt.getTime() : undefined);
    const expiresAt = lifetime === undefined ? undefined : new Date(now.getTime() + lifetime);
    const overlapEnd = input.overlapMs ? new Date(now.getTime() + input.overlapMs) : now;
    const oldEndsAt = old.expiresAt && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd;
    const token = newToken();
    const row = await this.db.transaction(async (txAny) => {
      const tx = txAny as unknown as Database;
      // two rotations at once: the second waits for the first and finds the token ended
      const locked = await findTokenById(tx, old.id, true);
      if (
        !locked ||
        !isLive(tokenStatus(locked, now, 0).state) ||
        locked.expiresAt?.getTime() !== old.expiresAt?.getTime()
      )
        throw new TokenError(
          `token ${old.id} ('${old.name}') was rotated or revoked meanwhile: only a live token can be rotated; list the tokens with 'idflow tokens list'`,
        );
      const inserted = await insertToken(tx, {
        name: old.name,
        tokenHash: hashToken(token),
        scopes: old.scopes,
        ...(old.personId ? { personId: old.personId } : {}),
        ...(old.source ? { source: old.source } : {}),
        ...(expiresAt ? { expiresAt } : {}),
      });
      if (input.overlapMs) await expireTokenAt(tx, old.id, oldEndsAt);
      else await revokeToken(tx, old.id);
      await appendAudit(tx, {
        actor: input.actor,
        action: 'token.rotated',
        target: `token:${old.id}`,
        outcome: 'ok',
        detail: {
          name: old.name,
          oldTokenId: old.id,
          newTokenId: inserted.id,
          oldTokenEnds: input.overlapMs ? 'expires' : 'revoked',
          oldTokenEndsAt: oldEndsAt.toISOString(),
          ...(expiresAt ? { newTokenExpiresAt: expiresAt.toISOString() } : {}),
        },
      });
      return inserted;
    });
    this.cache.clear();
    return { token, row, old, oldEndsAt };
  }
}
