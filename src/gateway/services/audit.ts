/** The audit trail as the gateway serves it: pages as JSON, every matching row as CSV. */
import { auditCsv } from '../../audit/export';
import { auditJson, auditPage, auditRows, queryProblems, type AuditQuery } from '../../audit/query';
import type { Database } from '../../db/client';
import { ValidationProblem } from '../problems';

export class AuditService {
  constructor(private readonly db: Database) {}

  /** A 400 naming the fields that do not fit together (the schema checked each alone). */
  check(query: AuditQuery): void {
    const problems = queryProblems(query);
    if (problems.length) throw new ValidationProblem('query', problems);
  }

  async page(query: AuditQuery) {
    this.check(query);
    const page = await auditPage(this.db, query);
    return {
      entries: page.entries.map(auditJson),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  }

  /** CSV chunks, read from the database a page at a time while they are sent. */
  csv(query: AuditQuery): AsyncGenerator<string> {
    this.check(query);
    return auditCsv(auditRows(this.db, query));
  }
}
