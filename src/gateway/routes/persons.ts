/**
 * `GET /v1/persons/:id` (a person and their access), `GET /v1/persons/:id/plan` (a preview) and
 * `GET /v1/persons/:id/timeline` (the person's events not finished yet, in order).
 */
import { Router, type Request } from 'express';
import * as z from 'zod';
import { Name } from '../../dsl/schema';
import { PersonId } from '../../model/person';
import { principalOf, requireScope } from '../middleware/auth';
import { ForbiddenProblem, ValidationProblem } from '../problems';
import type { AccessPlanService, PersonService } from '../services/persons';
import { fieldProblems } from '../zod-problems';

/** `?connector=a&connector=b`: the connectors to plan for (none: all that roles name). */
const PlanQuery = z.object({
  connector: z
    .union([Name, z.array(Name).max(100, 'at most 100 connectors')])
    .optional()
    .transform((c) => (c === undefined ? [] : Array.isArray(c) ? c : [c])),
});

const PersonPath = z.object({ id: PersonId });

/** The person id of the path, in the person-id grammar (else 400 naming it). */
function personId(value: unknown): string {
  const parsed = PersonPath.safeParse({ id: value });
  if (!parsed.success) throw new ValidationProblem('person id', fieldProblems(parsed.error));
  return parsed.data.id;
}

/**
 * A token bound to a person (`--person`) reads that person only; an unbound token with
 * persons:read, or an admin token, reads anyone.
 */
function readable(req: Request, id: string): string {
  const principal = principalOf(req);
  if (
    principal.personId !== undefined &&
    principal.personId !== id &&
    !principal.scopes.has('admin')
  )
    throw new ForbiddenProblem(
      `token '${principal.name}' is bound to a person and may read only that person`,
    );
  return id;
}

export function personRoutes(persons: PersonService, plans: AccessPlanService): Router {
  const router = Router();
  router.use('/v1/persons', requireScope('persons:read'));

  router.get('/v1/persons/:id', async (req, res) => {
    res.json(await persons.show(readable(req, personId(req.params.id))));
  });

  router.get('/v1/persons/:id/plan', async (req, res) => {
    const id = readable(req, personId(req.params.id));
    const query = PlanQuery.safeParse(req.query);
    if (!query.success) throw new ValidationProblem('query', fieldProblems(query.error));
    res.json(await plans.plan(id, [...new Set(query.data.connector)].sort()));
  });

  router.get('/v1/persons/:id/timeline', async (req, res) => {
    res.json(await plans.timeline(readable(req, personId(req.params.id))));
  });

  return router;
}
