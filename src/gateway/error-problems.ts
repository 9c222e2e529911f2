/**
 * Errors that are not the gateway's fault, as the problems they are: a client error raised by
 * Express or a body parser (status 4xx, `expose`), or a dependency that stopped answering in the
 * middle of a request (503 with Retry-After). Anything else is a bug: a logged 500.
 */
import { isDatabaseUnavailable } from '../db/errors';
import { HttpProblem, UnavailableProblem } from './problems';
import { temporalOutage } from './services/temporal-errors';

const CLIENT_SLUGS: Record<number, [string, string]> = {
  400: ['invalid-request', 'Bad request'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
};

export function clientOrDependencyProblem(err: unknown): HttpProblem | undefined {
  const e = err as { status?: unknown; expose?: unknown; message?: unknown } | undefined;
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    const [slug, title] = CLIENT_SLUGS[e.status] ?? ['client-error', 'Bad request'];
    // http-errors' messages for client errors are fixed texts ("request aborted"), never input.
    return new HttpProblem(
      e.status,
      slug,
      title,
      typeof e.message === 'string' ? e.message : title,
    );
  }
  if (err instanceof URIError)
    return new HttpProblem(
      400,
      'invalid-path',
      'The path is not valid',
      'the path is not valid percent-encoded UTF-8',
    );
  if (isDatabaseUnavailable(err)) return new UnavailableProblem('PostgreSQL');
  const outage = temporalOutage(err);
  if (outage) return new UnavailableProblem('Temporal', 5, outage === 'timeout');
  return undefined;
}
