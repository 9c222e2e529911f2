/** Telling "Temporal is down" apart from other client errors. */

/** gRPC status codes that mean "not reachable right now": CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const UNAVAILABLE = new Set<number>([1, 4, 8, 14]);

export function isTemporalUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown; name?: string; message?: string } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (typeof e.code === 'number' && UNAVAILABLE.has(e.code)) return true;
    if (
      e.name === 'TransportError' ||
      /ECONNREFUSED|failed to connect|UNAVAILABLE|deadline/i.test(e.message ?? '')
    )
      return true;
    if (e === e.cause) break;
  }
  return false;
}
