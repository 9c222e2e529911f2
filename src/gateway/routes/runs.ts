/**
 * The runs API: `GET /v1/runs` (find runs by person, flow, status, event type, start time and
 * budget, a page at a time), `GET /v1/runs/{workflowId}` (one run: steps, errors, approvals,
 * what it waits on), and `POST /v1/runs/{workflowId}/retry|skip|abort|approve` (an operator's
 * decision on a parked run). The workflow id is one path segment: its slashes are sent encoded
 * (`flow%2Fjoiner-standard%2F…`).
 */
import { Router } from 'express';
import * as z from 'zod';
import { STEP_ID_PATTERN } from '../../dsl/schema';
import { JsonValue } from '../../model/event';
import { RunFilterInput } from '../../runs/filter';
import { OPERATOR_ACTIONS } from '../../runs/operate';
import { principalOf } from '../middleware/auth';
import { boundPerson, readablePerson } from '../middleware/person-binding';
import { declareRoute, mount } from '../openapi';
import type { RunService } from '../services/runs';

/** A workflow id as Temporal takes it: 1 to 1000 characters, none of them control characters. */
export const WorkflowId = z
  .string()
  .min(1, 'must not be empty')
  .max(1000, 'must be at most 1000 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')
  .meta({
    description: 'the run’s workflow id, URL-encoded as one path segment (its slashes as %2F)',
    example: 'flow/joiner-standard/p-1001/evt-42',
  });

const RunPath = z.object({ workflowId: WorkflowId });

/** What an operator sends with a decision: `{}` at least. */
export const OperateBody = z.strictObject({
  reason: z
    .string()
    .min(1, 'must not be empty')
    .max(1000, 'must be at most 1000 characters')
    // shown in terminals (idflow audit list, persons history) and CSV: no escape sequences
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must be one line without control characters')
    .optional()
    .meta({ description: 'why, for the audit log' }),
  step: z
    .string()
    .max(128, 'must be at most 128 characters')
    .regex(STEP_ID_PATTERN, 'must be a step id, like create-account')
    .optional()
    .meta({
      description: 'which parked step, when several branches are parked (default: the first)',
    }),
});

const RunSummarySchema = z.object({
  workflowId: z.string(),
  flow: z.string(),
  person: z.string().optional(),
  eventType: z.string().optional(),
  status: z
    .string()
    .meta({ description: 'IdflowStatus: Running, Waiting, Parked, Completed, Failed, Cancelled' }),
  executionStatus: z.string().meta({ description: 'Temporal’s: RUNNING, COMPLETED, FAILED, …' }),
  definitionHash: z.string().optional(),
  overBudget: z.boolean().optional(),
  startedAt: z.string(),
  closedAt: z.string().optional(),
  summary: z.string().optional(),
});

const RunPageSchema = z.object({
  runs: z.array(RunSummarySchema),
  nextCursor: z.string().optional().meta({ description: 'pass as `cursor` for the next page' }),
});

const ErrorSchema = z.object({
  type: z.string(),
  message: z.string(),
  attempts: z.number().optional(),
});

const WaitSchema = z.object({
  kind: z.enum(['timer', 'approval', 'operator', 'review']),
  step: z.string(),
  what: z.string(),
  since: z.string().optional(),
  until: z.string().optional().meta({ description: 'when the wait ends by itself' }),
  approvers: z.array(z.string()).optional(),
  error: ErrorSchema.optional(),
  reviewId: z.string().optional(),
});

const RunViewSchema = RunSummarySchema.omit({ overBudget: true }).extend({
  runId: z.string(),
  overBudget: z.boolean().optional(),
  source: z.enum(['live', 'description']).meta({
    description: '`description`: the run did not answer its state query; steps are not known',
  }),
  currentStep: z.string().optional(),
  waitingOn: WaitSchema.optional(),
  waiting: z.array(WaitSchema).optional(),
  steps: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      title: z.string(),
      status: z.string(),
      startedAt: z.string(),
      finishedAt: z.string().optional(),
      durationMs: z.number().optional(),
      output: JsonValue.optional(),
      error: ErrorSchema.optional(),
      branch: z.string().optional(),
    }),
  ),
  approvals: z.array(
    z.looseObject({
      step: z.string(),
      status: z.string(),
      approvers: z.array(z.object({ id: z.string(), displayName: z.string().optional() })),
      deadline: z.string(),
      decisions: z.array(z.looseObject({ by: z.string(), decision: z.string(), at: z.string() })),
    }),
  ),
  vars: z.record(z.string(), JsonValue).optional(),
  stepsExecuted: z.number().optional(),
  automatedMs: z.number().optional(),
  budgetMs: z.number().optional(),
  links: z.object({ self: z.string(), graph: z.string() }),
});

const OperateResultSchema = z.object({
  workflowId: z.string(),
  action: z.enum(OPERATOR_ACTIONS),
  step: z.string(),
  status: z.string(),
});

const listRunsRoute = declareRoute({
  method: 'get',
  path: '/v1/runs',
  tag: 'runs',
  summary: 'Find runs by person, flow, status, event type, start time or budget',
  description:
    'Open runs first, newest first, then closed runs, most recently closed first. Every value is checked and escaped before it reaches Temporal’s visibility query. A token bound to a person lists that person’s runs only: `person` left out means theirs, another person is a 403.',
  auth: { scope: 'runs:read' },
  query: RunFilterInput,
  responses: { 200: { description: 'A page of runs', schema: RunPageSchema } },
});

const showRunRoute = declareRoute({
  method: 'get',
  path: '/v1/runs/{workflowId}',
  tag: 'runs',
  summary: 'One run: its steps, errors, approvals and what it waits on, secrets redacted',
  description:
    'A token bound to a person sees that person’s runs only: another person’s run is a 404, as an unknown one.',
  auth: { scope: 'runs:read' },
  params: RunPath,
  paramsName: 'workflow id',
  responses: { 200: { description: 'The run', schema: RunViewSchema } },
  problems: [404],
});

const OPERATE_SUMMARIES = {
  retry: 'Retry the step a parked run waits on',
  skip: 'Skip the step a parked run waits on',
  abort: 'Abort the step a parked run waits on (the run fails)',
  approve: 'Let a step the blast-radius guard parked go on',
} as const;

const operateRoutes = OPERATOR_ACTIONS.map((action) => ({
  action,
  route: declareRoute({
    method: 'post',
    path: `/v1/runs/{workflowId}/${action}`,
    tag: 'runs',
    summary: OPERATE_SUMMARIES[action],
    description:
      'Only while the run is parked (else 409); `approve` only on a step the blast-radius guard parked. Audited with the token’s name. A token bound to a person sees that person’s runs only (another person’s run is a 404) and, as the subject never decides on their own run, decides on none of them (403); an admin token bound to a person decides on others’ runs.',
    auth: { scope: 'runs:operate' },
    params: RunPath,
    paramsName: 'workflow id',
    body: { schema: OperateBody, name: 'decision' },
    responses: { 200: { description: 'The decision was taken', schema: OperateResultSchema } },
    problems: [403, 404, 409],
  }),
}));

export function runRoutes(runs: RunService): Router {
  const router = Router();

  mount(router, listRunsRoute, async (req, res, { query }) => {
    // a token bound to a person lists that person's runs: `person` is theirs, or left out
    const bound = boundPerson(req);
    if (bound !== undefined && query.person !== undefined) readablePerson(req, query.person);
    res.json(await runs.list(bound === undefined ? query : { ...query, person: bound }));
  });

  mount(router, showRunRoute, async (req, res, { params }) => {
    res.json(await runs.show(params.workflowId, boundPerson(req)));
  });

  for (const { action, route } of operateRoutes)
    mount(router, route, async (req, res, { params, body }) => {
      res.json(
        await runs.operate(
          params.workflowId,
          {
            action,
            by: `token:${principalOf(req).name}`,
            ...(body.reason !== undefined ? { reason: body.reason } : {}),
            ...(body.step !== undefined ? { step: body.step } : {}),
          },
          { onlyOf: boundPerson(req), person: principalOf(req).personId },
        ),
      );
    });

  return router;
}
