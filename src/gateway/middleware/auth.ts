/**
 * Bearer-token authentication and scope checks: 401 for a missing, unknown, revoked or expired
 * token, 403 without the scope or for another source's events. Each refusal carries its reason
 * (never the token) for the audit trail.
 */
import type { Request, RequestHandler } from 'express';
import { ForbiddenProblem, UnauthorizedProblem } from '../problems';
import type { Principal, Scope, TokenService } from '../services/tokens';
import type { RefusalNote } from './refusals';

const PRINCIPAL = Symbol('idflow.principal');

/** A problem that tells the audit trail why the request was refused. */
function refused<P extends Error>(problem: P, refusal: RefusalNote): P & { refusal: RefusalNote } {
  return Object.assign(problem, { refusal });
}

export function principalOf(req: Request): Principal {
  const principal = principalIfAny(req);
  if (!principal) throw refused(new UnauthorizedProblem('no token'), { reason: 'no-token' });
  return principal;
}

/** The request's principal, if it was authenticated (the refusal audit names its token). */
export function principalIfAny(req: Request): Principal | undefined {
  return (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
}

export function authenticate(tokens: TokenService): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match)
      throw refused(new UnauthorizedProblem('send an API token: Authorization: Bearer <token>'), {
        reason: 'no-token',
      });
    const check = await tokens.verify(match[1] as string);
    if (!check.ok) {
      // one answer for all three: a client cannot probe which tokens exist
      throw refused(new UnauthorizedProblem('the token is unknown, revoked or expired'), {
        reason: check.reason,
        ...(check.tokenId ? { tokenId: check.tokenId } : {}),
        ...(check.tokenName ? { tokenName: check.tokenName } : {}),
      });
    }
    (req as unknown as Record<symbol, Principal>)[PRINCIPAL] = check.principal;
    next();
  };
}

/** Requires `scope` (or `admin`). */
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    const principal = principalOf(req);
    if (!principal.scopes.has(scope) && !principal.scopes.has('admin')) {
      throw refused(
        new ForbiddenProblem(
          `token '${principal.name}' may not do this: it needs the '${scope}' scope`,
        ),
        { reason: 'missing-scope' },
      );
    }
    next();
  };
}

/**
 * Refuses (403) a token bound to an event source that sends another source's events; a token
 * bound to no source may send any. Webhook and SCIM routes call it with their source too.
 */
export function requireSource(req: Request, source: string): void {
  const principal = principalOf(req);
  if (principal.source === undefined || principal.source === source) return;
  throw refused(
    new ForbiddenProblem(
      `token '${principal.name}' sends as source '${principal.source}' and may not send events of source '${source}'`,
    ),
    { reason: 'wrong-source', source, tokenSource: principal.source },
  );
}
