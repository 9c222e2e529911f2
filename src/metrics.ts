/**
 * idflow's metrics: one prom-client registry per process, rendered by `GET /metrics` on the
 * gateway and on a worker run alone. In `idflow dev` gateway and worker share the process, so
 * one scrape shows both. The Temporal SDK's worker metrics (its Rust core's Prometheus
 * exporter on a loopback port) are appended to the same answer at scrape time.
 *
 * Labels stay bounded: every label value is checked against a plain pattern ("unknown" when it
 * does not fit) and each label admits a fixed number of distinct values ("other" after that),
 * so a sender inventing sources or event types cannot grow the series without end.
 */
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CollectFunction,
} from 'prom-client';

/** The registry every idflow metric lives in (not prom-client's global one). */
export const registry = new Registry();
let defaultsCollected = false;

/**
 * Admits label values that look like names idflow gives (definitions, the event grammar) up to
 * `limit` distinct ones; beyond it "other", and anything else "unknown".
 */
export class LabelClamp {
  private readonly seen = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly pattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/,
  ) {}

  value(value: unknown): string {
    if (typeof value !== 'string' || !this.pattern.test(value)) return 'unknown';
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.limit) return 'other';
    this.seen.add(value);
    return value;
  }
}

const clamps = {
  source: new LabelClamp(50),
  eventType: new LabelClamp(200),
  flow: new LabelClamp(500),
  connector: new LabelClamp(200),
  op: new LabelClamp(200),
};

/** Why the gateway refused an event (`idflow_events_rejected_total{reason}`). */
export type RejectReason =
  'invalid' | 'conflict' | 'rate-limited' | 'unavailable' | 'forbidden' | 'error';

const eventsReceived = new Counter({
  name: 'idflow_events_received_total',
  help: 'Events accepted by POST /v1/events (202: a dispatch workflow started), by source and type',
  labelNames: ['source', 'type'] as const,
  registers: [registry],
});
const eventsDeduplicated = new Counter({
  name: 'idflow_events_deduplicated_total',
  help: 'Events sent again with the same source and id and content (200, nothing started)',
  labelNames: ['source', 'type'] as const,
  registers: [registry],
});
const eventsRejected = new Counter({
  name: 'idflow_events_rejected_total',
  help: 'Events refused by POST /v1/events (4xx or 503), by source, type and reason; type "unknown" when the body did not name a valid one',
  labelNames: ['source', 'type', 'reason'] as const,
  registers: [registry],
});

/** Counts one event the gateway accepted, found again, or refused. */
export function countEvent(
  outcome: 'received' | 'deduplicated' | 'rejected',
  source: unknown,
  type: unknown,
  reason: RejectReason = 'invalid',
): void {
  const labels = { source: clamps.source.value(source), type: clamps.eventType.value(type) };
  if (outcome === 'received') eventsReceived.inc(labels);
  else if (outcome === 'deduplicated') eventsDeduplicated.inc(labels);
  else eventsRejected.inc({ ...labels, reason });
}

const runCounter = (name: string, help: string) =>
  new Counter({ name, help, labelNames: ['flow'] as const, registers: [registry] });
const runs = {
  started: runCounter('idflow_runs_started_total', 'Flow runs started, by flow'),
  completed: runCounter('idflow_runs_completed_total', 'Flow runs that completed, by flow'),
  failed: runCounter('idflow_runs_failed_total', 'Flow runs that failed, by flow'),
  cancelled: runCounter('idflow_runs_cancelled_total', 'Flow runs cancelled, by flow'),
  parked: runCounter(
    'idflow_runs_parked_total',
    'Times a run parked a step for an operator (retries exhausted, blast-radius guard), by flow',
  ),
  overBudget: runCounter(
    'idflow_runs_over_budget_total',
    'Flow runs whose automated time went over their execution budget, by flow',
  ),
};

/** What a run did, as the worker's workflow sink reports it. */
export type RunMetric = keyof typeof runs;

export function countRun(metric: RunMetric, flow: string): void {
  runs[metric].inc({ flow: clamps.flow.value(flow) });
}

const stepDuration = new Histogram({
  name: 'idflow_step_duration_seconds',
  help: 'Time of one connector op call (one attempt of an action step, regular or local activity), by connector, op and outcome',
  labelNames: ['connector', 'op', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

/** Records one connector op call's time in seconds; outcome `ok` or `failed`. */
export function observeStep(
  connector: string,
  op: string,
  seconds: number,
  outcome: 'ok' | 'failed',
): void {
  stepDuration.observe(
    { connector: clamps.connector.value(connector), op: clamps.op.value(op), outcome },
    seconds,
  );
}

/** Where the approvals-pending gauge reads from: open tasks by flow. */
export type PendingApprovalsSource = () => Promise<Map<string, number>>;

let pendingSource: PendingApprovalsSource | undefined;
let pendingCache: { at: number; value: Map<string, number> } | undefined;
/** How long one reading of the open tasks serves scrapes. */
export const PENDING_CACHE_MS = 5_000;
/** A reading that takes longer leaves the last one in place. */
const PENDING_TIMEOUT_MS = 1_000;

async function readPending(): Promise<Map<string, number> | undefined> {
  if (!pendingSource) return undefined;
  if (pendingCache && Date.now() - pendingCache.at < PENDING_CACHE_MS) return pendingCache.value;
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      pendingSource(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), PENDING_TIMEOUT_MS);
      }),
    ]);
    pendingCache = { at: Date.now(), value };
    return value;
  } catch {
    // PostgreSQL down or slow: the last reading stands (none before the first)
    return pendingCache?.value;
  } finally {
    clearTimeout(timer);
  }
}

const collectPending: CollectFunction<Gauge<'flow'>> = async function collect() {
  const value = await readPending();
  if (!value) return;
  this.reset();
  for (const [flow, open] of value) this.inc({ flow: clamps.flow.value(flow) }, open);
};
new Gauge({
  name: 'idflow_approvals_pending',
  help: 'Open approval tasks, by flow (read from PostgreSQL at scrape time, kept 5 s)',
  labelNames: ['flow'] as const,
  registers: [registry],
  collect: collectPending,
});

/** Lets the approvals-pending gauge read open tasks (the process that has the database). */
export function setPendingApprovalsSource(source: PendingApprovalsSource): void {
  pendingSource = source;
  pendingCache = undefined;
}

let temporalUrl: string | undefined;
const TEMPORAL_TIMEOUT_MS = 1_000;

/** Where the Temporal SDK's Prometheus exporter of this process answers (set by the worker). */
export function setTemporalMetricsUrl(url: string): void {
  temporalUrl = url;
}

/** The Temporal SDK's metrics text, or empty when there is no worker here or it did not answer. */
async function temporalMetrics(): Promise<string> {
  if (!temporalUrl) return '';
  try {
    const res = await fetch(temporalUrl, { signal: AbortSignal.timeout(TEMPORAL_TIMEOUT_MS) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

/** Only idflow's own metrics (process, events, runs, steps, approvals), as Prometheus text. */
export function ownMetrics(): Promise<string> {
  if (!defaultsCollected) {
    collectDefaultMetrics({ register: registry });
    defaultsCollected = true;
  }
  return registry.metrics();
}

/** The whole scrape: idflow's metrics, then the Temporal SDK's worker metrics when present. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  const [own, temporal] = await Promise.all([ownMetrics(), temporalMetrics()]);
  const body = temporal ? `${own.endsWith('\n') ? own : `${own}\n`}${temporal}` : own;
  return { contentType: registry.contentType, body };
}
