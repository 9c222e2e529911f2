/**
 * What the gateway tells its operators about requests, apart from the routes: the workflow ids
 * a request started or acted on (in its request log line), and the events counters. Both look
 * at the request and its answer only, so no route has to remember them.
 */
import type { RequestHandler, Response } from 'express';
import { EVENT_TYPE_PATTERN } from '../../dsl/schema';
import { countEvent, type RejectReason } from '../../metrics';
import { EventSource } from '../../model/event';

const WORKFLOW_IDS = 'idflowWorkflowIds';

/** Workflow ids an answer names: `workflowId`, `dispatchWorkflowId`, `runs[].workflowId`. */
function workflowIdsOf(body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const b = body as Record<string, unknown>;
  const ids: string[] = [];
  for (const key of ['dispatchWorkflowId', 'workflowId']) {
    const value = b[key];
    if (typeof value === 'string') ids.push(value);
  }
  if (Array.isArray(b.runs)) {
    for (const run of b.runs.slice(0, 20) as unknown[]) {
      const id = (run as { workflowId?: unknown } | null)?.workflowId;
      if (typeof id === 'string') ids.push(id);
    }
  }
  return [...new Set(ids)];
}

/**
 * Keeps the workflow ids a changing request's answer names (an event's dispatch and runs, an
 * operator's run) for its request log line. Read requests list runs: their ids stay out.
 */
export function noteWorkflowIds(): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const ids = workflowIdsOf(body);
      if (ids.length > 0) res.locals[WORKFLOW_IDS] = ids;
      return json(body);
    };
    next();
  };
}

/** The request log line's extra fields (pino-http `customProps`): the workflow ids, if any. */
export function requestLogProps(res: Response): Record<string, unknown> {
  const ids = res.locals?.[WORKFLOW_IDS] as string[] | undefined;
  return ids ? { workflowIds: ids } : {};
}

/** Why an event was refused, from the answer's status. */
export function rejectReason(status: number): RejectReason {
  if (status === 409) return 'conflict';
  if (status === 503) return 'unavailable';
  if (status === 429) return 'rate-limited';
  if (status === 401 || status === 403) return 'forbidden';
  if (status >= 400 && status < 500) return 'invalid';
  return 'error';
}

/**
 * Counts each `POST /v1/events` once its answer is sent: 202 received, 200 deduplicated,
 * anything else rejected with a reason. Source and type come from the body as parsed, and only
 * when they fit the event grammar ("unknown" otherwise, and when the body did not parse); the
 * metrics module bounds how many distinct ones it keeps. A middleware, not a route: the event
 * route stays the one declared.
 */
export function eventMetrics(): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' && req.path.replace(/\/+$/, '').toLowerCase() === '/v1/events') {
      res.once('finish', () => {
        const body: unknown = req.body;
        const fields =
          body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
        const source = EventSource.safeParse(fields.source).success ? fields.source : undefined;
        const type =
          typeof fields.type === 'string' && EVENT_TYPE_PATTERN.test(fields.type)
            ? fields.type
            : undefined;
        if (res.statusCode === 202) countEvent('received', source, type);
        else if (res.statusCode === 200) countEvent('deduplicated', source, type);
        else countEvent('rejected', source, type, rejectReason(res.statusCode));
      });
    }
    next();
  };
}
