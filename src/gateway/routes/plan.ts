/**
 * `POST /v1/plan`: a dry run of an event — the body is an event as `POST /v1/events` takes it;
 * the answer is what it would do (rules, flows and versions, each flow's steps), with nothing
 * recorded but an audit row of the dry run.
 *
 * The answer shows what idflow stores about the event's subject and about anyone the event or
 * the flows name (a manager's name and address in a rendered notification, another person's
 * reconcile), and what the targets hold for them now: as much as `GET /v1/persons/{id}` and its
 * plan show. So besides `plan` the token needs `persons:read` and must be bound to no person
 * (or hold `admin`): a dry run is not a way round the persons API's rules.
 */
import { Router } from 'express';
import * as z from 'zod';
import { IdentityEvent } from '../../model/event';
import { principalOf } from '../middleware/auth';
import { ForbiddenProblem } from '../problems';
import { declareRoute, mount } from '../openapi';
import type { DryRunService } from '../services/dry-runs';

const Step = z.looseObject({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  mode: z.enum([
    'read',
    'write',
    'decide',
    'set',
    'wait',
    'approval',
    'notify',
    'stop',
    'describe',
  ]),
  summary: z.string(),
});

const DryRun = z
  .looseObject({
    event: z.object({
      source: z.string(),
      id: z.string(),
      type: z.string(),
      subjectId: z.string(),
    }),
    subjectKnown: z.boolean(),
    rules: z.array(
      z.looseObject({
        policy: z.string(),
        rule: z.string(),
        matched: z.boolean(),
        reason: z.string(),
        flows: z.array(z.string()),
      }),
    ),
    flows: z.array(
      z.looseObject({
        flow: z.string(),
        title: z.string(),
        version: z.int().optional(),
        hash: z.string(),
        workflowId: z.string(),
        steps: z.array(Step).meta({
          description:
            'the steps in order; branches (`branches[].steps`) nest steps of the same form',
        }),
        stops: z.string().optional(),
      }),
    ),
    notActive: z.array(z.string()),
    plannedAt: z.string(),
  })
  .meta({ id: 'DryRun' });

const planEvent = declareRoute({
  method: 'post',
  path: '/v1/plan',
  tag: 'plan',
  summary: 'Dry run of an event: what it would do, changing nothing',
  description:
    'The rules that match and why, the flows that would start with their versions, and for each flow the steps it would take: read-only connector calls are made (the targets now), writes are described and not done, a reconcile shows its plan against the live targets. Nothing is recorded but an audit row of the dry run. Secrets are redacted as in a run’s view. The plan shows what idflow and the targets hold about the subject and anyone the event names, so the token also needs `persons:read` and must be bound to no person (else 403), unless it holds `admin`.',
  auth: { scope: 'plan' },
  body: { schema: IdentityEvent, name: 'event' },
  responses: { 200: { description: 'The dry run', schema: DryRun } },
  problems: [502, 504],
});

export function planRoutes(dryRuns: DryRunService): Router {
  const router = Router();
  mount(router, planEvent, async (req, res, { body: event }) => {
    const principal = principalOf(req);
    if (!principal.scopes.has('admin')) {
      if (!principal.scopes.has('persons:read'))
        throw new ForbiddenProblem(
          `token '${principal.name}' may not do this: a dry run shows persons' data, so it needs the 'persons:read' scope as well as 'plan'`,
        );
      if (principal.personId !== undefined)
        throw new ForbiddenProblem(
          `token '${principal.name}' is bound to a person; a dry run reads whomever the event names, so it needs a token bound to no person`,
        );
    }
    res.json(await dryRuns.plan(event, `token:${principal.name}`));
  });
  return router;
}
