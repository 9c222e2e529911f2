/**
 * The audit log as CSV (RFC 4180, CRLF, UTF-8): one record per row, `detail` as canonical JSON,
 * with the chain's hashes so an auditor can check the export itself. Text a spreadsheet would
 * run as a formula (=, +, -, @ first) is written with a leading quote.
 */
import { canonicalJson } from './chain';
import { csvRecord } from '../notify/csv';
import type { AuditRow } from './verify';

export const AUDIT_CSV_COLUMNS = [
  'seq',
  'at',
  'actor',
  'action',
  'target',
  'outcome',
  'run_id',
  'dedupe_key',
  'detail',
  'prev_hash',
  'hash',
] as const;

export const AUDIT_CSV_HEADER = csvRecord([...AUDIT_CSV_COLUMNS]);

export function auditCsvRecord(row: AuditRow): string {
  return csvRecord([
    row.seq,
    row.at.toISOString(),
    row.actor,
    row.action,
    row.target,
    row.outcome,
    row.runId,
    row.dedupeKey,
    canonicalJson(row.detail),
    row.prevHash,
    row.hash,
  ]);
}

/** The header, then a chunk of records per page of rows. */
export async function* auditCsv(
  pages: AsyncIterable<AuditRow[]> | Iterable<AuditRow[]>,
): AsyncGenerator<string> {
  yield AUDIT_CSV_HEADER;
  for await (const rows of pages) yield rows.map(auditCsvRecord).join('');
}
