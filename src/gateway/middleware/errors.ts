/**
 * The one place errors become HTTP responses (problem+json, or SCIM error documents under
 * /scim/v2); unknown errors are logged, not shown.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../logging';
import { toDatabaseError } from '../../db/errors';
import { HttpProblem } from '../problems';
import { clientOrDependencyProblem } from '../error-problems';
import { SCIM_MEDIA_TYPE, isScimPath, scimErrorBody } from '../../scim/errors';

function send(
  res: Parameters<ErrorRequestHandler>[2],
  problem: HttpProblem,
  instance: string,
): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  // SCIM clients read SCIM's error format (RFC 7644 §3.12), whoever refused the request
  if (isScimPath(res.req.path)) {
    res
      .status(problem.status)
      .type(SCIM_MEDIA_TYPE)
      .send(JSON.stringify(scimErrorBody(problem)));
    return;
  }
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify(problem.body(instance)));
}

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    send(
      res,
      new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`),
      req.originalUrl,
    );
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HttpProblem) {
      send(res, err, req.originalUrl);
      return;
    }
    const parserError = err as { type?: string; status?: number; limit?: number };
    if (parserError.type === 'entity.too.large') {
      send(
        res,
        new HttpProblem(
          413,
          'payload-too-large',
          'Payload too large',
          `the body is larger than ${parserError.limit ?? 262144} bytes`,
        ),
        req.originalUrl,
      );
      return;
    }
    if (parserError.type === 'entity.parse.failed') {
      send(
        res,
        new HttpProblem(400, 'invalid-json', 'The body is not valid JSON', (err as Error).message),
        req.originalUrl,
      );
      return;
    }
    if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
      send(
        res,
        new HttpProblem(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          (err as Error).message,
        ),
        req.originalUrl,
      );
      return;
    }
    const problem = clientOrDependencyProblem(err);
    if (problem) {
      send(res, problem, req.originalUrl);
      return;
    }
    // a database error is told by its kind, column and constraint: the driver's own error
    // (drizzle quotes the statement and every parameter) never reaches the log or the client
    const database = toDatabaseError('the request', err);
    if (database?.kind === 'invalid-value' || database?.kind === 'constraint') {
      send(
        res,
        database.kind === 'invalid-value'
          ? new HttpProblem(400, 'invalid-value', 'A value cannot be stored', database.message)
          : new HttpProblem(409, 'conflict', 'Conflict', database.message),
        req.originalUrl,
      );
      return;
    }
    logger.error({ err: database ?? err, method: req.method, path: req.path }, 'request failed');
    send(
      res,
      new HttpProblem(
        500,
        'internal',
        'Internal error',
        'the request failed; the error is in the gateway log',
      ),
      req.originalUrl,
    );
  };
}
