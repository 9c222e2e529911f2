/** API tokens: stored as SHA-256 hashes, looked up by hash. */
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../client';
import { apiTokens } from '../schema';

export type TokenRow = typeof apiTokens.$inferSelect;

/** What a new token row holds (its hash, never the token). */
export interface NewTokenValues {
  name: string;
  tokenHash: string;
  scopes: string[];
  personId?: string;
  /** The event source the token sends as. */
  source?: string;
  expiresAt?: Date;
}

export async function insertToken(db: Database, values: NewTokenValues): Promise<TokenRow> {
  const rows = await db
    .insert(apiTokens)
    .values({
      ...values,
      personId: values.personId ?? null,
      source: values.source ?? null,
      expiresAt: values.expiresAt ?? null,
    })
    .returning();
  return rows[0] as TokenRow;
}

export async function findTokenByHash(
  db: Database,
  tokenHash: string,
): Promise<TokenRow | undefined> {
  const rows = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).limit(1);
  return rows[0];
}

/** One token by id (a rotation names the token it replaces by id or by name). */
export async function findTokenById(
  db: Database,
  id: string,
  lock = false,
): Promise<TokenRow | undefined> {
  const query = db.select().from(apiTokens).where(eq(apiTokens.id, id)).limit(1);
  // with `lock`, the row stays locked until the transaction ends (a rotation ends it once)
  const rows = lock ? await query.for('update') : await query;
  return rows[0];
}

/** Every token with `name`, oldest first (names are not unique: a rotation reuses its name). */
export async function findTokensByName(db: Database, name: string): Promise<TokenRow[]> {
  return db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.name, name))
    .orderBy(asc(apiTokens.createdAt));
}

export async function listTokens(db: Database): Promise<TokenRow[]> {
  return db.select().from(apiTokens).orderBy(asc(apiTokens.name), asc(apiTokens.createdAt));
}

export async function revokeToken(db: Database, id: string): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(eq(apiTokens.id, id))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** Moves a token's end to `expiresAt` (a rotation's overlap lets senders switch). */
export async function expireTokenAt(db: Database, id: string, expiresAt: Date): Promise<void> {
  await db.update(apiTokens).set({ expiresAt }).where(eq(apiTokens.id, id));
}

export async function touchToken(db: Database, id: string): Promise<void> {
  await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, id));
}
