/**
 * What a token bound to a person (`idflow tokens create --person`) may read: that person only —
 * the person, their plan, timeline and history, and their runs. An unbound token, or one with
 * the `admin` scope, reads anyone. Routes about one person answer 403 for another; routes about
 * one run answer 404 for a run of another person, as for a run that does not exist, so a bound
 * token learns nothing of other people's runs.
 */
import type { Request } from 'express';
import { ForbiddenProblem } from '../problems';
import { principalOf } from './auth';

/** The person the request's token is limited to; undefined for an unbound or admin token. */
export function boundPerson(req: Request): string | undefined {
  const principal = principalOf(req);
  if (principal.personId === undefined || principal.scopes.has('admin')) return undefined;
  return principal.personId;
}

/** `id` when the token may read that person; else a 403 naming the rule. */
export function readablePerson(req: Request, id: string): string {
  const bound = boundPerson(req);
  if (bound !== undefined && bound !== id)
    throw new ForbiddenProblem(
      `token '${principalOf(req).name}' is bound to a person and may read only that person`,
    );
  return id;
}
