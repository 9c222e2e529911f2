/**
 * Errors the gateway answers with, as RFC 9457 problem details (`application/problem+json`).
 * Services throw these; one error middleware turns them into responses.
 */
import * as z from 'zod';

export interface FieldProblem {
  /** JSON pointer into the request body, `/subject/id`. */
  path: string;
  message: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  body(instance: string): Record<string, unknown> {
    return {
      type: `urn:idflow:problem:${this.slug}`,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      instance,
      ...this.extra,
    };
  }
}

export class ValidationProblem extends HttpProblem {
  constructor(
    what: string,
    readonly errors: FieldProblem[],
  ) {
    super(
      400,
      'invalid-request',
      `The ${what} is not valid`,
      errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; '),
      { errors },
    );
  }
}

export class UnauthorizedProblem extends HttpProblem {
  constructor(detail: string) {
    super(
      401,
      'unauthorized',
      'Authentication required',
      detail,
      {},
      { 'WWW-Authenticate': 'Bearer realm="idflow"' },
    );
  }
}

export class ForbiddenProblem extends HttpProblem {
  constructor(detail: string) {
    super(403, 'forbidden', 'Not allowed', detail);
  }
}

export class NotFoundProblem extends HttpProblem {
  constructor(detail: string) {
    super(404, 'not-found', 'Not found', detail);
  }
}

export class ConflictProblem extends HttpProblem {
  constructor(detail: string, extra: Record<string, unknown> = {}) {
    super(409, 'conflict', 'Conflict', detail, extra);
  }
}

/**
 * A dependency (Temporal, PostgreSQL) is down, so nothing was accepted; or (`timedOut`) it did
 * not answer in time, so the request may have taken effect: either way, try again later.
 */
export class UnavailableProblem extends HttpProblem {
  constructor(dependency: string, retryAfterSeconds = 5, timedOut = false) {
    super(
      503,
      'dependency-unavailable',
      'Service unavailable',
      timedOut
        ? `${dependency} did not answer in time; the request may have taken effect. Send the same request again after ${retryAfterSeconds} seconds: a repeated event or decision takes effect once.`
        : `${dependency} cannot be reached; nothing was accepted. Retry after ${retryAfterSeconds} seconds.`,
      { dependency, ...(timedOut ? { timedOut: true } : {}) },
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}

/**
 * The body of every problem answer, as a schema: the OpenAPI document describes 4xx and 5xx
 * answers with it. `errors` comes with a 400 naming fields; a 503 names its `dependency`.
 */
export const ProblemDocument = z
  .looseObject({
    type: z.string().meta({
      description: 'urn:idflow:problem:<slug>',
      example: 'urn:idflow:problem:invalid-request',
    }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().meta({ description: 'the request path' }),
    errors: z
      .array(
        z.object({
          path: z.string().meta({ description: 'JSON pointer to the field, `/subject/id`' }),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'every field that is not valid (400 invalid-request)' }),
    dependency: z.string().optional().meta({ description: 'what is down (503)' }),
  })
  .meta({ id: 'Problem' });
