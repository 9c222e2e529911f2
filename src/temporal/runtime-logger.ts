/**
 * The Temporal SDK's log (its TypeScript side and, forwarded, its Rust core) written through
 * idflow's logger, with repeated warnings throttled: while the Temporal server is down the core
 * reports every failed poll, many a second. The first of a kind is logged; its repeats within
 * the window are counted and the count is logged with the next one after the window.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from '../logging';

/**
 * The workflow ids of the activity running now, for every idflow log line it writes: which run
 * (workflowId) and which execution of it (runId), and the activity. Nothing outside activities.
 */
export function activityLogContext(): Record<string, unknown> | undefined {
  const info = asyncLocalStorage.getStore()?.info;
  if (!info?.workflowExecution) return undefined;
  return {
    workflowId: info.workflowExecution.workflowId,
    runId: info.workflowExecution.runId,
    activity: info.activityType,
  };
}

const PINO_LEVEL = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const satisfies Record<LogLevel, string>;

/**
 * What makes two messages "the same" for throttling: level, text without numbers, and the
 * workflow and activity they are about (so one run's failure never hides another's).
 */
function kindOf(level: LogLevel, message: string, meta: LogMetadata | undefined): string {
  const about = [meta?.workflowId, meta?.activityId].filter((v) => typeof v === 'string');
  return [level, message.replace(/\d+/g, '#').slice(0, 200), ...about].join('\u0000');
}

const NOISE = new Set(['sdkComponent', 'taskQueue', 'namespace', 'taskToken']);
/** The SDK's names for ids idflow's lines name otherwise. */
const RENAMED: Record<string, string> = { workflowRunId: 'runId' };

/** Meta the SDK attaches that is noise in idflow's log, or may be large. */
function tidy(meta: LogMetadata | undefined): Record<string, unknown> {
  if (!meta) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (NOISE.has(key)) continue;
    out[RENAMED[key] ?? key] =
      typeof value === 'string' && value.length > 500 ? `${value.slice(0, 500)}…` : value;
  }
  return out;
}

export interface ThrottleOptions {
  /** How long repeats of a warning are only counted (default 60 s). */
  windowMs?: number;
  now?: () => number;
}

/** A Temporal SDK logger writing to `log`, warnings and errors throttled per kind. */
export function temporalLogger(log: Logger, options: ThrottleOptions = {}): TemporalLogger {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, { since: number; suppressed: number }>();
  const sdk = log.child({ component: 'temporal-sdk' });

  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const pinoLevel = PINO_LEVEL[level];
    if (!sdk.isLevelEnabled(pinoLevel)) return;
    if (level === 'WARN' || level === 'ERROR') {
      const kind = kindOf(level, message, meta);
      const entry = seen.get(kind);
      const t = now();
      if (entry && t - entry.since < windowMs) {
        entry.suppressed += 1;
        return;
      }
      const suppressed = entry?.suppressed ?? 0;
      seen.set(kind, { since: t, suppressed: 0 });
      if (seen.size > 1_000) seen.delete(seen.keys().next().value as string);
      sdk[pinoLevel](
        { ...tidy(meta), ...(suppressed ? { repeatsSuppressed: suppressed } : {}) },
        suppressed
          ? `${message} (and ${suppressed} more like it in the last ${Math.round((t - (entry?.since ?? t)) / 1000)} s)`
          : message,
      );
      return;
    }
    sdk[pinoLevel](tidy(meta), message);
  };

  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
