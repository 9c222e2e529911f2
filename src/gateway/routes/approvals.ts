/** The approvals API: what waits on me, one task, deciding; delegations. */
import { Router } from 'express';
import * as z from 'zod';
import { PersonId, Timestamp } from '../../model/person';
import { principalOf, requireScope } from '../middleware/auth';
import { jsonBody } from '../middleware/json';
import { ForbiddenProblem, ValidationProblem } from '../problems';
import type { ApprovalService } from '../services/approvals';
import { fieldProblems } from '../zod-problems';

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
  approver: PersonId.optional(),
  limit: z.coerce
    .number<string>()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50),
  cursor: z.string().max(4000, 'is not a cursor of this listing').optional(),
});

const DelegationQuery = z.object({ person: PersonId.optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationProblem(what, fieldProblems(parsed.error));
  return parsed.data;
}

export function approvalRoutes(approvals: ApprovalService): Router {
  const router = Router();
  router.use(['/v1/approvals', '/v1/delegations'], requireScope('approvals'));

  router.get('/v1/approvals', async (req, res) => {
    const principal = principalOf(req);
    const query = parse(Listing, req.query, 'query');
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

  router.get('/v1/approvals/:taskId', async (req, res) => {
    res.json(await approvals.get(req.params.taskId, principalOf(req)));
  });

  router.post('/v1/approvals/:taskId/decision', jsonBody(), async (req, res) => {
    const principal = principalOf(req);
    if (!principal.personId) {
      throw new ForbiddenProblem(
        `token '${principal.name}' belongs to no person; decisions are made by people (idflow tokens create --person)`,
      );
    }
    const body = parse(Decision, req.body, 'decision');
    const view = await approvals.decide(
      req.params.taskId as string,
      { personId: principal.personId, actor: `person:${principal.personId}`, channel: 'api' },
      body,
    );
    res.json(view);
  });

  router.post('/v1/delegations', jsonBody(), async (req, res) => {
    const body = parse(NewDelegation, req.body, 'delegation');
    const row = await approvals.createDelegation(principalOf(req), {
      from: body.from,
      to: body.to,
      startsAt: new Date(body.startsAt),
      endsAt: new Date(body.endsAt),
    });
    res.status(201).json(row);
  });

  router.get('/v1/delegations', async (req, res) => {
    const { person } = parse(DelegationQuery, req.query, 'query');
    res.json({ delegations: await approvals.delegations(principalOf(req), person) });
  });

  router.delete('/v1/delegations/:id', async (req, res) => {
    const id = req.params.id;
    if (!z.uuid().safeParse(id).success)
      throw new ValidationProblem('delegation id', [{ path: '/id', message: 'must be a UUID' }]);
    await approvals.revokeDelegation(principalOf(req), id);
    res.status(204).end();
  });

  return router;
}
