/**
 * The active Connector definitions, as the worker sees them: read from the definition registry
 * and kept for a few seconds, so activating a new connector configuration reaches running
 * workers quickly without a database read per call.
 */
import type { ConnectorIR } from '../dsl/ir';
import type { Database } from '../db/client';
import { activeDefinitions } from '../db/repos/definitions';

export class ActiveConnectors {
  private cache?: { at: number; byName: Map<string, ConnectorIR> };

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 5_000,
  ) {}

  async get(name: string): Promise<ConnectorIR | undefined> {
    return (await this.all()).get(name);
  }

  /** Every active connector, by name. */
  async all(): Promise<ReadonlyMap<string, ConnectorIR>> {
    if (!this.cache || Date.now() - this.cache.at > this.ttlMs) {
      const rows = await activeDefinitions(this.db, 'Connector');
      this.cache = {
        at: Date.now(),
        byName: new Map(rows.map((r) => [r.name, r.ir as ConnectorIR])),
      };
    }
    return this.cache.byName;
  }
}
