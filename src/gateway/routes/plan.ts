/**
 * `POST /v1/plan`: a dry run of an event — the body is an event as `POST /v1/events` takes it;
 * the answer is what it would do (rules, flows and versions, each flow's steps), with nothing
 * recorded but an audit row of the dry run.
 */
import { Router } from 'express';
import * as z from 'zod';
import { IdentityEvent } from '../../model/event';
import { principalOf } from '../middleware/auth';
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
    'The rules that match and why, the flows that would start with their versions, and for each flow the steps it would take: read-only connector calls are made (the targets now), writes are described and not done, a reconcile shows its plan against the live targets. Nothing is recorded but an audit row of the dry run.',
  auth: { scope: 'plan' },
  body: { schema: IdentityEvent, name: 'event' },
  responses: { 200: { description: 'The dry run', schema: DryRun } },
  problems: [502, 504],
});

export function planRoutes(dryRuns: DryRunService): Router {
  const router = Router();
  mount(router, planEvent, async (req, res, { body: event }) => {
    res.json(await dryRuns.plan(event, `token:${principalOf(req).name}`));
  });
  return router;
}
