/** Telling "Temporal is down" and "Temporal did not answer in time" apart from other client errors. */

/** gRPC status codes that mean "not reachable right now": CANCELLED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const UNREACHABLE = new Set<number>([1, 8, 14]);
/** DEADLINE_EXCEEDED: the call reached Temporal, or may have, but no answer came in time. */
const DEADLINE_EXCEEDED = 4;

/**
 * Why a Temporal call failed for want of Temporal: `unreachable` (nothing got through), or
 * `timeout` (the call may have taken effect: a start, an update waiting on a worker); undefined
 * for any other error.
 */
export function temporalOutage(err: unknown): 'unreachable' | 'timeout' | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown; name?: string; message?: string } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === DEADLINE_EXCEEDED || /deadline/i.test(e.message ?? '')) return 'timeout';
    if (typeof e.code === 'number' && UNREACHABLE.has(e.code)) return 'unreachable';
    if (
      e.name === 'TransportError' ||
      /ECONNREFUSED|failed to connect|UNAVAILABLE/i.test(e.message ?? '')
    )
      return 'unreachable';
    if (e === e.cause) break;
  }
  return undefined;
}

export function isTemporalUnavailable(err: unknown): boolean {
  return temporalOutage(err) !== undefined;
}
