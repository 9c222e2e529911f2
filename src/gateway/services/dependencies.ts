/**
 * Whether the gateway's dependencies — Temporal and PostgreSQL — answer right now. Each has a
 * cheap probe whose answer is kept for a second (concurrent requests share one probe), so a
 * request that needs a dependency known to be down is refused at once with 503 and Retry-After
 * instead of waiting out connection retries, and a call in flight is abandoned as soon as a probe
 * finds its dependency gone. `/readyz` reports the same answers.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import { UnavailableProblem, HttpProblem } from '../problems';
import { isDatabaseUnavailable } from '../../db/errors';
import { isTemporalUnavailable, temporalOutage } from './temporal-errors';

export type DependencyName = 'temporal' | 'database';
export type Health = 'ok' | 'down';

/** How a dependency is named to clients (the `dependency` field of a 503). */
export const DEPENDENCY_LABELS: Record<DependencyName, string> = {
  temporal: 'Temporal',
  database: 'PostgreSQL',
};

/** A probe resolves when the dependency answers; `signal` aborts it at the probe timeout. */
export type Probe = (signal: AbortSignal) => Promise<unknown>;

export interface MonitorOptions {
  /** How long a probe's answer is kept. */
  ttlMs?: number;
  /** A probe that has not answered by then counts as down. */
  timeoutMs?: number;
  /** How often a call in flight looks at its dependency's health. */
  watchMs?: number;
}

/** A refusal because a probe found the dependency down (not news to the monitor). */
class DependencyDownProblem extends UnavailableProblem {}

export class DependencyMonitor {
  private readonly known = new Map<DependencyName, { at: number; health: Health }>();
  private readonly probing = new Map<DependencyName, Promise<Health>>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly watchMs: number;

  constructor(
    private readonly probes: Record<DependencyName, Probe>,
    options: MonitorOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.watchMs = options.watchMs ?? 250;
  }

  /**
   * The kept answer while it is fresh, else a new probe's. A dependency last found down stays
   * down until a probe says otherwise: that answer comes at once while the probe runs in the
   * background, so no request waits for a probe of something known to be gone.
   */
  health(name: DependencyName): Promise<Health> {
    const known = this.known.get(name);
    if (known && Date.now() - known.at < this.ttlMs) return Promise.resolve(known.health);
    const probe = this.probing.get(name) ?? this.startProbe(name);
    return known?.health === 'down' ? Promise.resolve('down') : probe;
  }

  private startProbe(name: DependencyName): Promise<Health> {
    const probe = this.probe(name).finally(() => this.probing.delete(name));
    this.probing.set(name, probe);
    return probe;
  }

  /** Every dependency's health, for `/readyz`. */
  async report(): Promise<Record<DependencyName, Health>> {
    const [temporal, database] = await Promise.all([
      this.health('temporal'),
      this.health('database'),
    ]);
    return { temporal, database };
  }

  /** Makes the kept answer stale: the next request probes again (after a call found it unreachable). */
  forget(name: DependencyName): void {
    const known = this.known.get(name);
    if (known) this.known.set(name, { at: 0, health: known.health });
  }

  /** Throws a 503 problem while `name` is known to be down. */
  async require(name: DependencyName): Promise<void> {
    if ((await this.health(name)) === 'down') throw new UnavailableProblem(DEPENDENCY_LABELS[name]);
  }

  /** Middleware refusing every request (503) while `name` is down. */
  gate(name: DependencyName): RequestHandler {
    return async (_req, _res, next) => {
      await this.require(name);
      next();
    };
  }

  /**
   * Error middleware: a request that failed because a dependency stopped answering drops that
   * dependency's kept answer, so the next request and /readyz probe it again.
   */
  noteFailures(): ErrorRequestHandler {
    return (err: unknown, _req, _res, next) => {
      const failed = err instanceof DependencyDownProblem ? undefined : this.failedDependency(err);
      if (failed) this.forget(failed);
      next(err);
    };
  }

  private failedDependency(err: unknown): DependencyName | undefined {
    if (isDatabaseUnavailable(err)) return 'database';
    if (err instanceof UnavailableProblem)
      return (Object.keys(DEPENDENCY_LABELS) as DependencyName[]).find(
        (name) => DEPENDENCY_LABELS[name] === err.extra.dependency,
      );
    return isTemporalUnavailable(err) ? 'temporal' : undefined;
  }

  /**
   * Runs `call` on `name`: refused at once while it is down; abandoned with a 503 (and its
   * signal aborted) when a probe during the call finds it down.
   */
  async guard<T>(name: DependencyName, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.require(name);
    const controller = new AbortController();
    const abandoned = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener(
        'abort',
        () => reject(new DependencyDownProblem(DEPENDENCY_LABELS[name])),
        { once: true },
      );
    });
    const watch = setInterval(() => {
      void this.health(name).then((health) => {
        if (health === 'down') controller.abort();
      });
    }, this.watchMs);
    try {
      return await Promise.race([call(controller.signal), abandoned]);
    } finally {
      clearInterval(watch);
    }
  }

  private async probe(name: DependencyName): Promise<Health> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`${name} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    let health: Health;
    try {
      await Promise.race([this.probes[name](controller.signal), timeout]);
      health = 'ok';
    } catch {
      health = 'down';
    } finally {
      clearTimeout(timer);
    }
    this.known.set(name, { at: Date.now(), health });
    return health;
  }
}

/** The probes of a Temporal client and a database: a system-info call and `select 1`. */
export function temporalProbe(client: Client): Probe {
  return (signal) => client.withAbortSignal(signal, () => client.workflowService.getSystemInfo({}));
}

/**
 * A Temporal call made for a request: bounded by `deadlineMs`, refused at once while Temporal
 * is known down, abandoned when it goes down meanwhile. Unreachable → 503 (UnavailableProblem).
 */
export async function callTemporal<T>(
  client: Client,
  monitor: DependencyMonitor | undefined,
  fn: () => Promise<T>,
  deadlineMs: number,
): Promise<T> {
  const bounded = () => client.withDeadline(Date.now() + deadlineMs, fn);
  try {
    return monitor
      ? await monitor.guard('temporal', (signal) => client.withAbortSignal(signal, bounded))
      : await bounded();
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    const outage = temporalOutage(err);
    if (outage) {
      monitor?.forget('temporal');
      throw new UnavailableProblem(DEPENDENCY_LABELS.temporal, 5, outage === 'timeout');
    }
    throw err;
  }
}
