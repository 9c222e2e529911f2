/**
 * Structured logs (pino, JSON lines). Anything that looks like a credential is redacted by
 * path; connector secrets are never put in log records in the first place. A line written
 * while an activity runs carries its workflow's `workflowId` and `runId` (see addLogContext).
 */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'req.headers["x-slack-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["webhook-signature"]',
];

/** Fields every log line gets from where it is written (ids only, never personal data). */
export type LogContext = () => Record<string, unknown> | undefined;
const contexts: LogContext[] = [];

/** Adds fields to every line of every logger, computed per line (the worker's activity ids). */
export function addLogContext(context: LogContext): void {
  if (!contexts.includes(context)) contexts.push(context);
}

function contextFields(): Record<string, unknown> {
  if (contexts.length === 0) return {};
  const fields: Record<string, unknown> = {};
  for (const context of contexts) Object.assign(fields, context());
  return fields;
}

export function createLogger(level: string, name = 'idflow'): Logger {
  return pino({
    name,
    level,
    mixin: contextFields,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
  });
}

/**
 * A request's URL as a log line shows it: the path, and each query parameter's name with its
 * value hidden. Query values carry personal data (a SCIM client's `filter=userName eq "…"`, a
 * lookup by email) and, from careless clients, credentials (`?token=…`); names are enough to
 * tell requests apart.
 */
export function loggedUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const names = url
    .slice(mark + 1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => `${part.split('=')[0]}=[redacted]`);
  return `${url.slice(0, mark)}?${names.join('&')}`;
}

/** The request of a request log line (pino-http's serialized request) without query values. */
export function loggedRequest<R extends { url?: string; query?: unknown }>(req: R): R {
  const query =
    req.query !== null && typeof req.query === 'object'
      ? Object.fromEntries(Object.keys(req.query).map((name) => [name, '[redacted]']))
      : req.query;
  return { ...req, ...(req.url !== undefined ? { url: loggedUrl(req.url) } : {}), query };
}
