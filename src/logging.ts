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
