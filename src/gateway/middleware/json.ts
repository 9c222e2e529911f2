/** Request bodies: JSON only, at most 256 KiB. */
import express, { type RequestHandler } from 'express';
import { HttpProblem } from '../problems';

export const MAX_BODY_BYTES = 256 * 1024;

const parse = express.json({
  limit: MAX_BODY_BYTES,
  strict: false,
  type: ['application/json', 'application/*+json'],
});

/** Refuses bodies that are not JSON (415), then parses them. */
export function jsonBody(): RequestHandler {
  return (req, res, next) => {
    if (!req.is(['application/json', 'application/*+json'])) {
      next(
        new HttpProblem(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          `send the body as application/json (got ${req.headers['content-type'] ?? 'no content type'})`,
        ),
      );
      return;
    }
    parse(req, res, next);
  };
}
