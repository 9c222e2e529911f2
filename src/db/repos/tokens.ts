/** API tokens: stored as SHA-256 hashes, looked up by hash. */
import { eq } from 'drizzle-orm';
import type { Database } from '../client';
import { apiTokens } from '../schema';

export type TokenRow = typeof apiTokens.$inferSelect;

export async function insertToken(
  db: Database,
  values: {
    name: string;
    tokenHash: string;
    scopes: string[];
    personId?: string;
    expiresAt?: Date;
  },
): Promise<TokenRow> {
  const rows = await db
    .insert(apiTokens)
    .values({ ...values, personId: values.personId ?? null, expiresAt: values.expiresAt ?? null })
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

export async function listTokens(db: Database): Promise<TokenRow[]> {
  return db.select().from(apiTokens);
}

export async function revokeToken(db: Database, id: string): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(eq(apiTokens.id, id))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

export async function touchToken(db: Database, id: string): Promise<void> {
  await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, id));
}
