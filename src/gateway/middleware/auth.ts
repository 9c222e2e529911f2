/** Bearer-token authentication and scope checks: 401 for a missing or unknown token, 403 without the scope. */
import type { Request, RequestHandler } from 'express';
import { ForbiddenProblem, UnauthorizedProblem } from '../problems';
import type { Principal, Scope, TokenService } from '../services/tokens';

const PRINCIPAL = Symbol('idflow.principal');

export function principalOf(req: Request): Principal {
  const principal = (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
  if (!principal) throw new UnauthorizedProblem('no token');
  return principal;
}

export function authenticate(tokens: TokenService): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new UnauthorizedProblem('send an API token: Authorization: Bearer <token>');
    const principal = await tokens.authenticate(match[1] as string);
    if (!principal) throw new UnauthorizedProblem('the token is unknown, revoked or expired');
    (req as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
    next();
  };
}

/** Requires `scope` (or `admin`). */
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    const principal = principalOf(req);
    if (!principal.scopes.has(scope) && !principal.scopes.has('admin')) {
      throw new ForbiddenProblem(
        `token '${principal.name}' may not do this: it needs the '${scope}' scope`,
      );
    }
    next();
  };
}
