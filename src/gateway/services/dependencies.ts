/**
 * Whether the gateway's dependencies — Temporal and PostgreSQL — answer right now. Each has a
 * cheap probe whose answer is kept for a second (concurrent requests share one probe), so a
 * request that needs a dependency known to be down is refused at once with 503 and Retry-After
 * instead of waiting out connection retries, and a call in flight is abandoned as soon as a probe
 * finds its dependency gone. `/readyz` reports the same answers.
 */
import type { RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import { UnavailableProblem, HttpProblem } from '../problems';
import { isTemporalUnavailable } from './temporal-errors';

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

  /** The kept answer while it is fresh, else a new probe's. */
  health(name: DependencyName): Promise<Health> {
    const known = this.known.get(name);
    if (known && Date.now() - known.at < this.ttlMs) return Promise.resolve(known.health);
    let probe = this.probing.get(name);
    if (!probe) {
      probe = this.probe(name).finally(() => this.probing.delete(name));
      this.probing.set(name, probe);
    }
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

  /** Drops the kept answer: the next request probes again (after a call found it unreachable). */
  forget(name: DependencyName): void {
    this.known.delete(name);
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
   * Runs `call` on `name`: refused at once while it is down; abandoned with a 503 (and its
   * signal aborted) when a probe during the call finds it down.
   */
  async guard<T>(name: DependencyName, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.require(name);
    const controller = new AbortController();
    const abandoned = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener(
        'abort',
        () => reject(new UnavailableProblem(DEPENDENCY_LABELS[name])),
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
    if (isTemporalUnavailable(err)) {
      monitor?.forget('temporal');
      throw new UnavailableProblem(DEPENDENCY_LABELS.temporal);
    }
    throw err;
  }
}
