/**
 * API tokens. A token is shown once, when it is created; only its SHA-256 is stored. Each token
 * has scopes (what it may do) and may belong to a person (approvers act as themselves).
 * Lookups are cached briefly, so a revoked token stops working within `cacheMs`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../db/client';
import { isDatabaseUnavailable } from '../../db/errors';
import { appendAudit } from '../../db/repos/audit';
import {
  findTokenByHash,
  insertToken,
  listTokens,
  revokeToken,
  touchToken,
  type TokenRow,
} from '../../db/repos/tokens';
import { UnavailableProblem } from '../problems';

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
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tokenId: string;
  name: string;
  scopes: ReadonlySet<string>;
  personId?: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** `idf_` and 43 characters of base64url: 256 random bits. */
export function newToken(): string {
  return `idf_${randomBytes(32).toString('base64url')}`;
}

export class TokenService {
  private readonly cache = new Map<string, { at: number; principal?: Principal }>();

  constructor(
    private readonly db: Database,
    private readonly cacheMs = 30_000,
  ) {}

  /** The principal of `token`, or undefined when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    const now = Date.now();
    if (cached && now - cached.at < this.cacheMs) return cached.principal;
    let row: TokenRow | undefined;
    try {
      row = await findTokenByHash(this.db, hash);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw new UnavailableProblem('PostgreSQL');
      throw err;
    }
    const valid = row && !row.revokedAt && (!row.expiresAt || row.expiresAt.getTime() > now);
    const principal =
      row && valid
        ? {
            tokenId: row.id,
            name: row.name,
            scopes: new Set(row.scopes),
            ...(row.personId ? { personId: row.personId } : {}),
          }
        : undefined;
    this.cache.set(hash, { at: now, principal });
    if (principal && (!row?.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000)) {
      touchToken(this.db, principal.tokenId).catch(() => undefined);
    }
    return principal;
  }

  /** Creates a token; the plain token is returned once and never stored. */
  async create(input: {
    name: string;
    scopes: string[];
    personId?: string;
    expiresAt?: Date;
    actor: string;
  }): Promise<{ token: string; row: TokenRow }> {
    const token = newToken();
    const row = await insertToken(this.db, {
      name: input.name,
      tokenHash: hashToken(token),
      scopes: input.scopes,
      ...(input.personId ? { personId: input.personId } : {}),
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
      },
    });
    return { token, row };
  }

  list(): Promise<TokenRow[]> {
    return listTokens(this.db);
  }

  async revoke(id: string, actor: string): Promise<boolean> {
    const done = await revokeToken(this.db, id);
    await appendAudit(this.db, {
      actor,
      action: 'token.revoked',
      target: `token:${id}`,
      outcome: done ? 'ok' : 'failed',
    });
    this.cache.clear();
    return done;
  }
}
