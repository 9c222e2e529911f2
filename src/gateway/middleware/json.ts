/**
 * Request bodies: JSON only, UTF-8, at most 256 KiB, nested at most MAX_JSON_DEPTH levels, and
 * only text PostgreSQL can store. Every refusal is a 4xx naming what is wrong: 415 for another
 * media type or charset, 413 for size, 400 for the rest. Parse errors never quote the body.
 */
import express, { type Request, type RequestHandler } from 'express';
import { MAX_JSON_DEPTH, jsonValueProblems, nestsDeeperThan } from '../json-limits';
import { HttpProblem, ValidationProblem } from '../problems';

export const MAX_BODY_BYTES = 256 * 1024;

const JSON_TYPES = ['application/json', 'application/*+json'];

// Content-Encoding is refused before any route (request-guard); inflate stays off here too.
const readRaw = express.raw({ limit: MAX_BODY_BYTES, type: () => true, inflate: false });

function invalidJson(detail: string): HttpProblem {
  return new HttpProblem(400, 'invalid-json', 'The body is not valid JSON', detail);
}

function unsupported(detail: string): HttpProblem {
  return new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', detail);
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The JSON value of a UTF-8 body; a leading byte order mark is ignored (RFC 8259 §8.1). */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw invalidJson('the body is not valid UTF-8');
  }
  if (text.trim() === '') throw invalidJson('the body is empty; send a JSON document');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH))
    throw invalidJson(`the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw invalidJson(`the body is not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
  const problems = jsonValueProblems(value);
  if (problems.length > 0) throw new ValidationProblem('body', problems);
  return value;
}

/**
 * Why a request cannot carry a JSON body (400 without a body, 415 for another media type or
 * charset), or undefined when it can. Routes that read the bytes themselves (a signature
 * covers them) ask it after their own check.
 */
export function jsonRequestProblem(req: Request): HttpProblem | undefined {
  if (!hasBody(req)) return invalidJson('the request has no body; send a JSON document');
  if (!req.is(JSON_TYPES))
    return unsupported(
      `send the body as application/json (got ${req.headers['content-type'] ?? 'no content type'})`,
    );
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset))
    return unsupported(`send the body as UTF-8 (got charset ${charset || '(empty)'})`);
  return undefined;
}

/**
 * Reads the body's bytes as sent (at most MAX_BODY_BYTES, 413 beyond), any media type, into
 * `req.body` as a Buffer: for routes that check a signature over them before parsing.
 */
export function rawBody(): RequestHandler {
  return readRaw;
}

/** Refuses bodies that are not JSON (415) or not acceptable JSON (400, 413), then parses them. */
export function jsonBody(): RequestHandler {
  return (req, res, next) => {
    const problem = jsonRequestProblem(req);
    if (problem) {
      next(problem);
      return;
    }
    readRaw(req, res, (err?: unknown) => {
      if (err) {
        next(err);
        return;
      }
      try {
        req.body = parseJsonBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
        next();
      } catch (problem) {
        next(problem);
      }
    });
  };
}
