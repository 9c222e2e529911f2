/**
 * The audit log's hash chain: what a row's hash covers and how it is computed. Pure functions,
 * shared by the writer (src/db/repos/audit.ts), `idflow audit verify` and the bench, so the
 * bytes hashed when a row is written are the bytes recomputed from the row as it reads back.
 *
 * A row's canonical content is one line of JSON, an object with its keys sorted:
 *
 *   {"action":…,"actor":…,"at":"2026-11-23T10:00:00.123Z","dedupeKey":…|null,
 *    "detail":{…keys sorted…},"outcome":…,"runId":…|null,"seq":42,"target":…}
 *
 * and `hash = sha256_hex(prev_hash + "\n" + content)`, with `prev_hash` the previous chained
 * row's hash (64 zeros for the first). `at` is written with millisecond precision, so its ISO
 * form is exactly what PostgreSQL gives back; `detail` is hashed as JSON reads it back from
 * jsonb (numbers as JavaScript reads them, keys sorted, undefined members dropped).
 */
import { createHash } from 'node:crypto';

/** The previous hash of the first row of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit row the chain covers. */
export interface ChainedContent {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  detail: unknown;
  runId: string | null;
  dedupeKey: string | null;
}

/**
 * JSON with object keys sorted by UTF-16 code unit (JavaScript's default sort), no whitespace,
 * strings and numbers as `JSON.stringify` writes them. `value` must already be plain JSON
 * (see {@link asStoredJson}).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/**
 * A value as it comes back from a jsonb column: through JSON once (dates become ISO strings,
 * undefined members disappear, NaN becomes null). Hash this, store this.
 */
export function asStoredJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}) ?? '{}');
}

/**
 * The fields the chain covers as plain JSON (`at` as its ISO form): what the hash is computed
 * over, and what the audit API answers for a row beside its hashes.
 */
export function chainedFields(row: ChainedContent) {
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    detail: row.detail,
    runId: row.runId,
    dedupeKey: row.dedupeKey,
  };
}

/** The canonical content of a row (the line the hash covers after the previous hash). */
export function canonicalContent(row: ChainedContent): string {
  return canonicalJson(chainedFields(row));
}

/** SHA-256 (hex) of the previous hash and the row's canonical content. */
export function chainHash(prevHash: string, row: ChainedContent): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalContent(row)}`)
    .digest('hex');
}
