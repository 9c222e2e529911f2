/** The audit trail as the gateway serves it: pages as JSON, every matching row as CSV. */
import { auditCsv } from '../../audit/export';
import { auditJson, auditPage, auditRows, type AuditQuery } from '../../audit/query';
import type { Database } from '../../db/client';

export class AuditService {
  constructor(private readonly db: Database) {}

  async page(query: AuditQuery) {
    const page = await auditPage(this.db, query);
    return {
      entries: page.entries.map(auditJson),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  }

  /** CSV chunks, read from the database a page at a time while they are sent. */
  csv(query: AuditQuery): AsyncGenerator<string> {
    return auditCsv(auditRows(this.db, query));
  }
}
