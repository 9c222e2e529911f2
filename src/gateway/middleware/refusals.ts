/**
 * Every refused request (401, 403, 429) reaches the audit trail, aggregated: whoever refuses
 * notes why (`noteRefusal`, or a thrown problem carrying `refusal`), and one hook records the
 * answer once it is sent. What is recorded is the reason, the method, the declared route's
 * pattern and the token's id when it is known — never the presented credential, its hash, the
 * Authorization header or the raw URL.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { declaredRoutes } from '../openapi';
import type { RefusalRecorder } from '../services/refusals';

/** Why a request was refused; the last three are the defaults when nobody said why. */
export type RefusalReason =
  | 'no-token'
  | 'unknown-token'
  | 'revoked-token'
  | 'expired-token'
  | 'missing-scope'
  | 'wrong-source'
  | 'signed-only-source'
  | 'token-rate-limited'
  | 'source-rate-limited'
  | 'unauthenticated'
  | 'forbidden'
  | 'rate-limited';

/** What the refusing code knows: why, and (for a known token) its id and name, the source. */
export interface RefusalNote {
  reason: RefusalReason;
  tokenId?: string;
  tokenName?: string;
  /** The event source the request carried (a wrong source, a source over its limit). */
  source?: string;
  /** The source the token is bound to (a wrong source). */
  tokenSource?: string;
}

const NOTE = Symbol('idflow.refusal');

/** Says why `req` is being refused, for its audit row (the last note wins). */
export function noteRefusal(req: Request, note: RefusalNote): void {
  (req as unknown as Record<symbol, RefusalNote>)[NOTE] = note;
}

function noteOf(req: Request): RefusalNote | undefined {
  return (req as unknown as Record<symbol, RefusalNote | undefined>)[NOTE];
}

const DEFAULT_REASON: Record<number, RefusalReason> = {
  401: 'unauthenticated',
  403: 'forbidden',
  429: 'rate-limited',
};

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Pattern {
  method: string;
  route: string;
  segments: string[];
  literals: number;
}

let patterns: Pattern[] = [];
let patternsFor = -1;

function compiled(): Pattern[] {
  const routes = declaredRoutes();
  if (routes.length !== patternsFor) {
    patterns = routes.map((key) => {
      const [method = '', route = ''] = key.split(' ');
      const segments = route.split('/').filter(Boolean);
      return {
        method,
        route,
        segments: segments.map((s) => s.toLowerCase()),
        literals: segments.filter((s) => !s.startsWith('{')).length,
      };
    });
    patternsFor = routes.length;
  }
  return patterns;
}

/**
 * The declared route (`/v1/events/{source}/{id}`) a request's method and path fall under, or
 * `(no route)`: an audit row names a pattern, never a path a client made up. Literal segments
 * win over parameters, as the router orders them.
 */
export function routePatternOf(method: string, path: string): string {
  const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const segments = path.split('/').filter(Boolean);
  let best: Pattern | undefined;
  for (const p of compiled()) {
    if (p.method !== wanted || p.segments.length !== segments.length) continue;
    const fits = p.segments.every(
      (s, i) => s.startsWith('{') || s === (segments[i] as string).toLowerCase(),
    );
    if (fits && (!best || p.literals > best.literals)) best = p;
  }
  return best?.route ?? '(no route)';
}

/** The method as recorded: a standard one, or OTHER (a client picks the method too). */
export function methodOf(method: string): string {
  const upper = method.toUpperCase();
  return METHODS.has(upper) ? upper : 'OTHER';
}

/**
 * Records each 401, 403 and 429 answer in `recorder` once it is sent, with the note its
 * refuser left (or the status's default reason) and the token `who` names, if any.
 */
export function auditRefusals(
  recorder: RefusalRecorder,
  who: (req: Request) => { tokenId: string; name: string } | undefined,
): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => {
      const reason = DEFAULT_REASON[res.statusCode];
      if (!reason) return;
      const note = noteOf(req);
      const principal = who(req);
      const tokenId = note?.tokenId ?? principal?.tokenId;
      const tokenName = note?.tokenName ?? principal?.name;
      recorder.record({
        reason: note?.reason ?? reason,
        status: res.statusCode,
        method: methodOf(req.method),
        route: routePatternOf(req.method, req.path),
        ...(tokenId ? { tokenId } : {}),
        ...(tokenName ? { tokenName } : {}),
        ...(note?.source ? { source: note.source } : {}),
        ...(note?.tokenSource ? { tokenSource: note.tokenSource } : {}),
      });
    });
    next();
  };
}

/** Notes the refusal a thrown problem carries (`refusal`), then passes the error on. */
export function noteRefusedProblems(): ErrorRequestHandler {
  return (err: unknown, req, _res, next) => {
    const refusal = (err as { refusal?: RefusalNote } | null)?.refusal;
    if (refusal && typeof refusal === 'object') noteRefusal(req, refusal);
    next(err);
  };
}
