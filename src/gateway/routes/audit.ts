/**
 * The audit API: `GET /v1/audit` filtered by actor, action, target, run, outcome and time,
 * newest first in keyset pages, or every matching row as CSV (`Accept: text/csv` or
 * `?format=csv`).
 */
import { Router, type Request, type Response } from 'express';
import * as z from 'zod';
import { AuditQuerySchema, type AuditQuery } from '../../audit/query';
import { JsonValue } from '../../model/event';
import { principalOf } from '../middleware/auth';
import { boundPerson } from '../middleware/person-binding';
import { declareRoute, mount } from '../openapi';
import { ForbiddenProblem } from '../problems';
import type { AuditService } from '../services/audit';

const AuditEntrySchema = z
  .object({
    seq: z.int().meta({ description: 'position in the log; the chain runs in seq order' }),
    at: z.string().meta({ description: 'when it was written (ISO 8601, milliseconds, UTC)' }),
    actor: z.string().meta({ example: 'token:hr-integration' }),
    action: z.string().meta({ example: 'event.received' }),
    target: z.string().meta({ example: 'person:p-1001' }),
    outcome: z.string().meta({ example: 'ok' }),
    detail: z
      .record(z.string(), JsonValue)
      .meta({ description: 'ids and counts, never personal data' }),
    runId: z.string().nullable(),
    dedupeKey: z.string().nullable(),
    prevHash: z
      .string()
      .nullable()
      .meta({ description: 'the previous row’s hash; null before the chain' }),
    hash: z.string().nullable().meta({
      description: 'SHA-256 (hex) of prevHash and the row’s canonical content (docs/audit.md)',
    }),
  })
  .meta({ id: 'AuditEntry' });

const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  nextCursor: z.string().optional().meta({ description: 'pass as `cursor` for the next page' }),
});

const listAuditRoute = declareRoute({
  method: 'get',
  path: '/v1/audit',
  tag: 'audit',
  summary: 'Read the audit trail, filtered, a page at a time or as CSV',
  description:
    'Needs a token bound to no person (or `admin`). Newest first (`order=asc` for oldest first), keyset pages of `limit` rows (default 100) with an opaque `cursor`. With `Accept: text/csv` or `format=csv` the answer is every matching row as RFC 4180 CSV (columns seq, at, actor, action, target, outcome, run_id, dedupe_key, detail, prev_hash, hash), streamed; `limit` then caps the rows.',
  auth: { scope: 'audit:read' },
  query: AuditQuerySchema,
  responses: { 200: { description: 'A page of audit rows (or CSV)', schema: AuditPageSchema } },
});

/** Resolves when the client has taken what was written, or has gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function wantsCsv(req: Request, query: AuditQuery): boolean {
  if (query.format) return query.format === 'csv';
  return req.accepts(['application/json', 'text/csv']) === 'text/csv';
}

async function streamCsv(req: Request, res: Response, chunks: AsyncGenerator<string>) {
  // the first page is read before the status is sent: a database down is still a 503
  const first = await chunks.next();
  res
    .status(200)
    .type('text/csv; charset=utf-8; header=present')
    .setHeader('Content-Disposition', 'attachment; filename="audit.csv"');
  try {
    for (let chunk = first; !chunk.done; chunk = await chunks.next()) {
      if (res.destroyed) break;
      if (!res.write(chunk.value)) await drained(res);
    }
    if (res.destroyed) await chunks.return(undefined);
    else res.end();
  } catch {
    // the status is gone: cut the response short, so the client sees an incomplete file
    req.log.warn('audit CSV cut short: the database failed while it was read');
    res.destroy();
  }
}

export function auditRoutes(audit: AuditService): Router {
  const router = Router();
  mount(router, listAuditRoute, async (req, res, { query }) => {
    // the trail names every person's events and runs: an auditor's token, not one bound to a
    // person (an approver's), reads it
    if (boundPerson(req) !== undefined)
      throw new ForbiddenProblem(
        `token '${principalOf(req).name}' is bound to a person; the audit trail needs a token bound to no person`,
      );
    if (wantsCsv(req, query)) await streamCsv(req, res, audit.csv(query));
    else res.json(await audit.page(query));
  });
  return router;
}
