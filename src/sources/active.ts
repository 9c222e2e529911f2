/**
 * The active Source definitions, as the gateway sees them: read from the definition registry
 * and kept for a few seconds, so a newly activated source (a rotated webhook secret, a changed
 * SCIM mapping, a rate limit) reaches every gateway quickly without a database read per request.
 */
import type { SourceIR } from '../dsl/ir';
import type { Database } from '../db/client';
import { activeDefinitions } from '../db/repos/definitions';

export class ActiveSources {
  private cache?: { at: number; byName: Map<string, SourceIR> };
  private loading?: Promise<Map<string, SourceIR>>;

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 5_000,
  ) {}

  /** The active Source named `name`, or undefined when none is. */
  async get(name: string): Promise<SourceIR | undefined> {
    return (await this.all()).get(name);
  }

  /** Every active source, by name. */
  async all(): Promise<ReadonlyMap<string, SourceIR>> {
    if (this.cache && Date.now() - this.cache.at <= this.ttlMs) return this.cache.byName;
    // one read serves every request that arrives while it runs
    this.loading ??= activeDefinitions(this.db, 'Source')
      .then((rows) => {
        const byName = new Map(rows.map((r) => [r.name, r.ir as SourceIR]));
        this.cache = { at: Date.now(), byName };
        return byName;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Forgets what was read, so the next request reads the registry again (tests, activation). */
  clear(): void {
    this.cache = undefined;
  }
}
