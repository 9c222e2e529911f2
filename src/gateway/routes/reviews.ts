/** The review API: open correlation reviews, one review, resolving it; orphan accounts. */
import { Router } from 'express';
import * as z from 'zod';
import { Resolution } from '../../model/review';
import { principalOf } from '../middleware/auth';
import { declareRoute, mount } from '../openapi';
import type { ReviewService } from '../services/reviews';

const Listing = z.object({
  limit: z.coerce
    .number<string>()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(500, 'must be at most 500')
    .default(200),
});

const ReviewPath = z.object({
  id: z.string().meta({ description: 'a review id, `rv-` and 24 hex digits' }),
});

const Review = z
  .looseObject({
    id: z.string(),
    kind: z.string(),
    status: z.enum(['open', 'resolved']),
    workflowId: z.string(),
    step: z.string(),
    correlation: z.string(),
    rule: z.string(),
    record: z.object({ kind: z.string(), source: z.string(), id: z.string() }),
    candidates: z.array(
      z.object({ personId: z.string(), links: z.object({ person: z.string() }) }),
    ),
    createdAt: z.string(),
    resolution: z
      .object({ personId: z.string(), created: z.boolean(), by: z.string(), at: z.string() })
      .optional(),
    links: z.object({ self: z.string() }),
  })
  .meta({ id: 'Review' });

const listReviews = declareRoute({
  method: 'get',
  path: '/v1/review',
  tag: 'review',
  summary: 'Open correlation reviews: records that matched more than one person',
  auth: { scope: 'review:read' },
  query: Listing,
  responses: {
    200: { description: 'The open reviews', schema: z.object({ reviews: z.array(Review) }) },
  },
});

const showReview = declareRoute({
  method: 'get',
  path: '/v1/review/{id}',
  tag: 'review',
  summary: 'One review',
  auth: { scope: 'review:read' },
  params: ReviewPath,
  responses: { 200: { description: 'The review', schema: Review } },
  problems: [404],
});

const resolveReview = declareRoute({
  method: 'post',
  path: '/v1/review/{id}',
  tag: 'review',
  summary: 'Resolve a review: the record is one of the candidates, or a new person',
  description: 'The run waiting on the review goes on.',
  auth: { scope: 'review:write' },
  params: ReviewPath,
  body: { schema: Resolution, name: 'resolution' },
  responses: { 200: { description: 'The review, resolved', schema: Review } },
  problems: [404, 409],
});

const listOrphans = declareRoute({
  method: 'get',
  path: '/v1/orphan-accounts',
  tag: 'review',
  summary: 'Accounts in targets that belong to no person idflow knows',
  auth: { scope: 'review:read' },
  query: Listing,
  responses: {
    200: {
      description: 'The orphan accounts',
      schema: z.object({
        accounts: z.array(
          z.object({
            connector: z.string(),
            accountId: z.string(),
            firstSeenAt: z.string(),
            lastSeenAt: z.string(),
            runId: z.string().optional(),
          }),
        ),
      }),
    },
  },
});

export function reviewRoutes(reviews: ReviewService): Router {
  const router = Router();

  mount(router, listReviews, async (_req, res, { query }) => {
    res.json({ reviews: await reviews.list(query.limit) });
  });

  mount(router, showReview, async (_req, res, { params }) => {
    res.json(await reviews.get(params.id));
  });

  mount(router, resolveReview, async (req, res, { params, body }) => {
    const principal = principalOf(req);
    const resolution =
      body.personId !== undefined ? { personId: body.personId } : { create: true as const };
    res.json(await reviews.resolve(params.id, resolution, `token:${principal.name}`));
  });

  mount(router, listOrphans, async (_req, res, { query }) => {
    const rows = await reviews.orphans(query.limit);
    res.json({
      accounts: rows.map((r) => ({
        connector: r.connector,
        accountId: r.accountId,
        firstSeenAt: r.firstSeenAt.toISOString(),
        lastSeenAt: r.lastSeenAt.toISOString(),
        ...(r.runId ? { runId: r.runId } : {}),
      })),
    });
  });

  return router;
}
