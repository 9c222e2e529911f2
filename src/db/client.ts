/**
 * The database: PostgreSQL through postgres.js when DATABASE_URL is set, otherwise PGlite
 * (PostgreSQL in WebAssembly) on disk under the data directory. Both run the same drizzle
 * migrations, applied at start-up under an advisory lock so several processes may start at once.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  /** Where the data lives, for messages (the URL without its password, or the directory). */
  location: string;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'migrations');
const MIGRATION_LOCK = 724_310_001;

/** The URL with any password replaced, safe to log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Connections in the pool (PostgreSQL only). */
  max?: number;
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.max ?? 10);
  return openPglite(join(options.dataDir, 'pglite'));
}

function openPostgres(url: string, max: number): DatabaseHandle {
  const sql = postgres(url, {
    max,
    // A database that does not accept a connection within 2 s counts as down: the gateway
    // answers 503 within its 2 s budget, activities retry.
    connect_timeout: 2,
    idle_timeout: 30,
    onnotice: () => undefined,
    connection: { application_name: 'idflow' },
  });
  const db = drizzlePostgres(sql, { schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    location: redactUrl(url),
    async migrate() {
      const reserved = await sql.reserve();
      try {
        await reserved`select pg_advisory_lock(${MIGRATION_LOCK})`;
        // The lock is held on the reserved connection; the migration runs on the pool.
        await migratePostgres(drizzlePostgres(sql, { schema }), {
          migrationsFolder: MIGRATIONS_DIR,
        });
      } finally {
        await reserved`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
        reserved.release();
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

async function openPglite(dir: string): Promise<DatabaseHandle> {
  await mkdir(dir, { recursive: true });
  const client = new PGlite(dir);
  await client.waitReady;
  const pg = drizzlePglite(client, { schema });
  return {
    db: pg as unknown as Database,
    kind: 'pglite',
    location: dir,
    migrate: () => migratePglite(pg, { migrationsFolder: MIGRATIONS_DIR }),
    close: () => client.close(),
  };
}
