/**
 * `GET /v1/persons/:id` (a person and their access), `GET /v1/persons/:id/plan` (a preview),
 * `GET /v1/persons/:id/timeline` (the person's events not finished yet, in order) and
 * `GET /v1/persons/:id/history` (every event, run and audit row about them, in order).
 */
import { Router } from 'express';
import * as z from 'zod';
import { Name } from '../../dsl/schema';
import { PersonId } from '../../model/person';
import { readablePerson as readable } from '../middleware/person-binding';
import { declareRoute, mount } from '../openapi';
import type { AccessPlanService, PersonService } from '../services/persons';
import type { RunService } from '../services/runs';

/** `?connector=a&connector=b`: the connectors to plan for (none: all that roles name). */
const PlanQuery = z.object({
  connector: z
    .union([Name, z.array(Name).max(100, 'at most 100 connectors')])
    .optional()
    .transform((c) => (c === undefined ? [] : Array.isArray(c) ? c : [c]))
    .meta({ description: 'a connector to plan for, repeated for more (none: every connector)' }),
});

const PersonPath = z.object({ id: PersonId });

const personsRoute = {
  tag: 'persons',
  auth: { scope: 'persons:read' },
  params: PersonPath,
  paramsName: 'person id',
  description:
    'A token bound to a person reads that person only (else 403); an unbound token, or an admin token, reads anyone.',
} as const;

const showPerson = declareRoute({
  ...personsRoute,
  method: 'get',
  path: '/v1/persons/{id}',
  summary: 'A person: their roles, accounts, grants, holds and recent runs',
  responses: {
    200: {
      description: 'The person and their access',
      schema: z.looseObject({
        person: z.looseObject({ id: z.string() }),
        roles: z.array(z.looseObject({})),
        problems: z.array(z.string()),
        accounts: z.array(z.looseObject({})),
        grants: z.array(z.looseObject({})),
        holds: z.array(z.looseObject({})),
        runs: z.array(z.looseObject({})),
      }),
    },
  },
  problems: [403, 404],
});

const planPerson = declareRoute({
  ...personsRoute,
  method: 'get',
  path: '/v1/persons/{id}/plan',
  summary: 'What a reconcile would do for the person now (reads the targets, writes nothing)',
  query: PlanQuery,
  responses: { 200: { description: 'The access plan', schema: z.looseObject({}) } },
  problems: [403, 404, 502, 504],
});

const personTimeline = declareRoute({
  ...personsRoute,
  method: 'get',
  path: '/v1/persons/{id}/timeline',
  summary: 'The person’s events not finished yet, in the order they apply',
  responses: { 200: { description: 'The timeline', schema: z.looseObject({}) } },
  problems: [403, 404],
});

const personHistory = declareRoute({
  ...personsRoute,
  method: 'get',
  path: '/v1/persons/{id}/history',
  summary: 'What happened to the person and why: every event, run and audit row, oldest first',
  responses: {
    200: {
      description: 'The person’s history',
      schema: z.object({
        personId: z.string(),
        entries: z.array(
          z.looseObject({ kind: z.enum(['event', 'run', 'audit']), at: z.string() }),
        ),
        truncated: z.array(z.enum(['events', 'runs', 'audit'])).optional(),
      }),
    },
  },
  problems: [403],
});

export function personRoutes(
  persons: PersonService,
  plans: AccessPlanService,
  runs: RunService,
): Router {
  const router = Router();

  mount(router, showPerson, async (req, res, { params }) => {
    res.json(await persons.show(readable(req, params.id)));
  });

  mount(router, planPerson, async (req, res, { params, query }) => {
    const id = readable(req, params.id);
    res.json(await plans.plan(id, [...new Set(query.connector)].sort()));
  });

  mount(router, personTimeline, async (req, res, { params }) => {
    res.json(await plans.timeline(readable(req, params.id)));
  });

  mount(router, personHistory, async (req, res, { params }) => {
    res.json(await runs.history(readable(req, params.id)));
  });

  return router;
}
