/** The approvals API: what waits on me, one task, deciding; delegations. */
import { Router } from 'express';
import * as z from 'zod';
import { PersonId, Timestamp } from '../../model/person';
import { principalOf } from '../middleware/auth';
import { declareRoute, mount } from '../openapi';
import { ForbiddenProblem, ValidationProblem } from '../problems';
import type { ApprovalService } from '../services/approvals';

const Decision = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000).optional(),
});

const NewDelegation = z.strictObject({
  from: PersonId,
  to: PersonId,
  startsAt: Timestamp,
  endsAt: Timestamp,
});

/** Query of the approvals listing: whose tasks, how many, from where. */
const Listing = z.object({
  approver: PersonId.optional().meta({
    description: "whose tasks (default: the token's person)",
  }),
  limit: z.coerce
    .number<string>()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50),
  cursor: z
    .string()
    .max(4000, 'is not a cursor of this listing')
    .optional()
    .meta({ description: '`next` of the page before' }),
});

const TaskPath = z.object({ taskId: z.string().meta({ description: 'the task id of a listing' }) });

const Approver = z.object({ id: z.string(), displayName: z.string().optional() });
const Links = z.object({ self: z.string(), decision: z.string() });

const ApprovalSummary = z
  .looseObject({
    taskId: z.string(),
    workflowId: z.string(),
    step: z.string(),
    title: z.string(),
    flow: z.string(),
    request: z.string(),
    status: z.string(),
    approvers: z.array(Approver),
    waitingOn: z.array(z.string()),
    openedAt: z.string(),
    deadline: z.string(),
    links: Links,
  })
  .meta({ id: 'ApprovalSummary' });

const ApprovalView = z
  .looseObject({
    taskId: z.string(),
    workflowId: z.string(),
    step: z.string(),
    title: z.string(),
    flow: z.string(),
    request: z.string(),
    mode: z.string(),
    status: z.string(),
    approvers: z.array(Approver),
    openedAt: z.string(),
    deadline: z.string(),
    decisions: z.array(z.looseObject({})),
    history: z.array(z.looseObject({})),
    links: Links,
  })
  .meta({ id: 'ApprovalTask' });

const Delegation = z
  .looseObject({
    id: z.uuid(),
    fromPerson: z.string(),
    toPerson: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
  })
  .meta({ id: 'Delegation' });

const listApprovals = declareRoute({
  method: 'get',
  path: '/v1/approvals',
  tag: 'approvals',
  summary: 'The approval tasks waiting on a person (and on those delegating to them)',
  auth: { scope: 'approvals' },
  query: Listing,
  responses: {
    200: {
      description: 'One page of tasks; `next` is the cursor of the page after',
      schema: z.looseObject({
        approver: z.string(),
        tasks: z.array(ApprovalSummary),
        next: z.string().optional(),
      }),
    },
  },
  problems: [403],
});

const showApproval = declareRoute({
  method: 'get',
  path: '/v1/approvals/{taskId}',
  tag: 'approvals',
  summary: 'One approval task, with its decisions and history',
  auth: { scope: 'approvals' },
  params: TaskPath,
  responses: { 200: { description: 'The task', schema: ApprovalView } },
  problems: [404],
});

const decide = declareRoute({
  method: 'post',
  path: '/v1/approvals/{taskId}/decision',
  tag: 'approvals',
  summary: 'Approve or reject, as the token’s person',
  description:
    'Only an assigned approver or their delegate decides, never the subject; a token of no person cannot decide (403).',
  auth: { scope: 'approvals' },
  params: TaskPath,
  body: { schema: Decision, name: 'decision' },
  responses: { 200: { description: 'The task after the decision', schema: ApprovalView } },
  problems: [404, 409],
});

const createDelegation = declareRoute({
  method: 'post',
  path: '/v1/delegations',
  tag: 'approvals',
  summary: 'Delegate one person’s approvals to another for a time',
  auth: { scope: 'approvals' },
  body: { schema: NewDelegation, name: 'delegation' },
  responses: { 201: { description: 'The delegation', schema: Delegation } },
});

const listDelegations = declareRoute({
  method: 'get',
  path: '/v1/delegations',
  tag: 'approvals',
  summary: 'Delegations in force, of one person or all',
  auth: { scope: 'approvals' },
  query: z.object({
    person: PersonId.optional().meta({ description: 'delegations given or received by' }),
  }),
  responses: {
    200: {
      description: 'The delegations',
      schema: z.object({ delegations: z.array(Delegation) }),
    },
  },
});

const revokeDelegation = declareRoute({
  method: 'delete',
  path: '/v1/delegations/{id}',
  tag: 'approvals',
  summary: 'Revoke a delegation',
  auth: { scope: 'approvals' },
  params: z.object({ id: z.uuid('must be a UUID') }),
  paramsName: 'delegation id',
  responses: { 204: { description: 'Revoked' } },
  problems: [404],
});

export function approvalRoutes(approvals: ApprovalService): Router {
  const router = Router();

  mount(router, listApprovals, async (req, res, { query }) => {
    const principal = principalOf(req);
    const approver = query.approver ?? principal.personId;
    if (!approver)
      throw new ValidationProblem('query', [
        { path: '/approver', message: 'is required for a token of no person' },
      ]);
    const page = await approvals.pending(approver, principal, {
      limit: query.limit,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
    res.json({ approver, ...page });
  });

  mount(router, showApproval, async (req, res, { params }) => {
    res.json(await approvals.get(params.taskId, principalOf(req)));
  });

  mount(router, decide, async (req, res, { params, body }) => {
    const principal = principalOf(req);
    if (!principal.personId) {
      throw new ForbiddenProblem(
        `token '${principal.name}' belongs to no person; decisions are made by people (idflow tokens create --person)`,
      );
    }
    const view = await approvals.decide(
      params.taskId,
      { personId: principal.personId, actor: `person:${principal.personId}`, channel: 'api' },
      body,
    );
    res.json(view);
  });

  mount(router, createDelegation, async (req, res, { body }) => {
    const row = await approvals.createDelegation(principalOf(req), {
      from: body.from,
      to: body.to,
      startsAt: new Date(body.startsAt),
      endsAt: new Date(body.endsAt),
    });
    res.status(201).json(row);
  });

  mount(router, listDelegations, async (req, res, { query }) => {
    res.json({ delegations: await approvals.delegations(principalOf(req), query.person) });
  });

  mount(router, revokeDelegation, async (req, res, { params }) => {
    await approvals.revokeDelegation(principalOf(req), params.id);
    res.status(204).end();
  });

  return router;
}
