/**
 * What remote connectors share: secrets read from the worker's environment (never logged, never
 * returned), per-connector limits on calls in flight and calls a second, TLS options.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SecretEnv } from '../../src/connectors/common';
import { connectorFailure } from '../errors';

/** The value of a `{ secretEnv }` reference; a clear error naming the variable when unset. */
export function secretOf(connector: string, field: string, ref: SecretEnv): string {
  const value = process.env[ref.secretEnv];
  if (!value) {
    throw connectorFailure(
      'ConnectorNotConfigured',
      `connector '${connector}': ${field} comes from the environment variable ${ref.secretEnv}, which is not set on this worker`,
    );
  }
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    throw connectorFailure(
      'ConnectorNotConfigured',
      `connector '${connector}': the environment variable ${ref.secretEnv} (${field}) holds a control character, such as a trailing newline`,
    );
  }
  return value;
}

export function tlsOptions(tls?: {
  caFile?: string;
  rejectUnauthorized?: boolean;
}): ConnectionOptions {
  return {
    ...(tls?.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls?.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
}

interface Gate {
  inFlight: number;
  waiting: Array<() => void>;
  nextSlot: number;
}

const gates = new Map<string, Gate>();

/** Rejects once `signal` aborts (the activity was cancelled or timed out): waiting stops. */
function abortable(signal: AbortSignal | undefined, wait: (done: () => void) => () => void) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      cancel();
      reject(signal?.reason as Error);
    };
    const cancel = wait(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` within the connector's limits on this worker: calls spaced to `ratePerSecond`, then
 * at most `maxConcurrency` at once, in the order they came (a finishing call hands its place
 * straight to the longest waiting one). A call whose activity is cancelled or times out while
 * it waits leaves the queue instead of running late.
 */
export async function withinLimits<T>(
  connector: string,
  limits: { maxConcurrency?: number; ratePerSecond?: number },
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  let gate = gates.get(connector);
  if (!gate) gates.set(connector, (gate = { inFlight: 0, waiting: [], nextSlot: 0 }));
  const g = gate;
  if (limits.ratePerSecond) {
    const now = Date.now();
    const slot = Math.max(now, g.nextSlot);
    g.nextSlot = slot + 1000 / limits.ratePerSecond;
    if (slot > now)
      await abortable(signal, (done) => {
        const timer = setTimeout(done, slot - now);
        return () => clearTimeout(timer);
      });
  }
  const max = limits.maxConcurrency ?? Infinity;
  if (g.inFlight < max && g.waiting.length === 0) g.inFlight += 1;
  else
    await abortable(signal, (done) => {
      g.waiting.push(done); // resumed with the place of a finishing call
      return () => g.waiting.splice(g.waiting.indexOf(done), 1);
    });
  try {
    return await fn();
  } finally {
    const next = g.waiting.shift();
    if (next) next();
    else g.inFlight -= 1;
  }
}

/** Network errors that mean "the target cannot be reached now": retried with backoff. */
export function isNetworkError(err: unknown): boolean {
  const code =
    (err as { code?: unknown; cause?: { code?: unknown } })?.code ??
    (err as { cause?: { code?: unknown } })?.cause?.code;
  return (
    typeof code === 'string' &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ENOTFOUND',
      'EPIPE',
      'EAI_AGAIN',
      'UND_ERR_SOCKET',
      'UND_ERR_CONNECT_TIMEOUT',
    ].includes(code)
  );
}

/** A TLS certificate the worker does not trust: a configuration problem, never retried. */
export function certificateProblem(err: unknown): string | undefined {
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  const code = [e?.code, e?.cause?.code].find((c): c is string => typeof c === 'string');
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(code)) {
    const message = [e.message, e.cause?.message].find((m): m is string => typeof m === 'string');
    return `${message ?? code} (${code})`;
  }
  return undefined;
}
