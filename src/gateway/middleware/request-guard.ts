/**
 * Checks every request makes before it reaches a route, so that what the routes and services
 * receive is always text they can use: no Content-Encoding but identity (415: the gateway does
 * not decompress, so a small compressed body can never become a large one), path segments that
 * are valid percent-encoded UTF-8 without control characters (400), and query parameters without
 * control characters (400).
 */
import type { RequestHandler } from 'express';
import { textProblem } from '../json-limits';
import { HttpProblem, ValidationProblem, type FieldProblem } from '../problems';
import { toPointer } from '../../dsl/diagnostics';

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function shown(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function pathProblem(path: string): string | undefined {
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return `path segment ${i} ('${shown(segment)}') is not valid percent-encoded UTF-8`;
    }
    if (hasControl(decoded))
      return `path segment ${i} ('${shown(segment)}') must not contain control characters`;
  }
  return undefined;
}

function queryProblems(query: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(query)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    const bad = [key, ...values].some(
      (v) => typeof v === 'string' && (hasControl(v) || textProblem(v) !== undefined),
    );
    if (bad)
      problems.push({ path: toPointer([key]), message: 'must not contain control characters' });
  }
  return problems;
}

export function requestGuard(): RequestHandler {
  return (req, _res, next) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && !/^\s*(identity)?\s*$/i.test(encoding)) {
      throw new HttpProblem(
        415,
        'unsupported-content-encoding',
        'Unsupported content encoding',
        `Content-Encoding: ${shown(encoding)} is not accepted; send the body uncompressed (identity)`,
      );
    }
    const badPath = pathProblem(req.path);
    if (badPath) throw new HttpProblem(400, 'invalid-path', 'The path is not valid', badPath);
    const problems = queryProblems(req.query);
    if (problems.length > 0) throw new ValidationProblem('query', problems);
    next();
  };
}
