/** The review API: open correlation reviews, one review, resolving it; orphan accounts. */
import { Router } from 'express';
import * as z from 'zod';
import { parseResolution } from '../../model/review';
import { principalOf, requireScope } from '../middleware/auth';
import { jsonBody } from '../middleware/json';
import { ValidationProblem } from '../problems';
import type { ReviewService } from '../services/reviews';
import { fieldProblems } from '../zod-problems';

const Listing = z.object({
  limit: z.coerce
    .number<string>()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(500, 'must be at most 500')
    .default(200),
});

function limitOf(query: unknown): number {
  const parsed = Listing.safeParse(query);
  if (!parsed.success) throw new ValidationProblem('query', fieldProblems(parsed.error));
  return parsed.data.limit;
}

export function reviewRoutes(reviews: ReviewService): Router {
  const router = Router();

  router.get('/v1/review', requireScope('review:read'), async (req, res) => {
    res.json({ reviews: await reviews.list(limitOf(req.query)) });
  });

  router.get('/v1/review/:id', requireScope('review:read'), async (req, res) => {
    res.json(await reviews.get(req.params.id as string));
  });

  router.post('/v1/review/:id', requireScope('review:write'), jsonBody(), async (req, res) => {
    const parsed = parseResolution(req.body);
    if (!parsed.ok) throw new ValidationProblem('resolution', parsed.problems);
    const principal = principalOf(req);
    res.json(
      await reviews.resolve(req.params.id as string, parsed.value, `token:${principal.name}`),
    );
  });

  router.get('/v1/orphan-accounts', requireScope('review:read'), async (req, res) => {
    const rows = await reviews.orphans(limitOf(req.query));
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
