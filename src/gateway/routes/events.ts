/** `POST /v1/events` and `GET /v1/events/:source/:id`. */
import { Router } from 'express';
import { EventKey, EventSource, IdentityEvent } from '../../model/event';
import { requireScope } from '../middleware/auth';
import { jsonBody } from '../middleware/json';
import { NotFoundProblem, ValidationProblem } from '../problems';
import type { EventService } from '../services/events';
import { fieldProblems } from '../zod-problems';

export function eventRoutes(events: EventService): Router {
  const router = Router();

  router.post('/v1/events', requireScope('events:write'), jsonBody(), async (req, res) => {
    const parsed = IdentityEvent.safeParse(req.body);
    if (!parsed.success) throw new ValidationProblem('event', fieldProblems(parsed.error));
    const result = await events.submit(parsed.data);
    const self = `/v1/events/${encodeURIComponent(parsed.data.source)}/${encodeURIComponent(parsed.data.id)}`;
    res
      .status(result.status)
      .location(self)
      .json({ ...result.body, links: { self } });
  });

  router.get('/v1/events/:source/:id', requireScope('events:read'), async (req, res) => {
    const source = req.params.source as string;
    const id = req.params.id as string;
    // No event can have a source or id outside the grammar: nothing to look up.
    if (!EventSource.safeParse(source).success || !EventKey.safeParse(id).success)
      throw new NotFoundProblem(`no event ${source}/${id}: not a valid event source and id`);
    res.json(await events.get(source, id));
  });

  return router;
}
