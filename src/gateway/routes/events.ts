/** `POST /v1/events` and `GET /v1/events/:source/:id`. */
import { Router } from 'express';
import * as z from 'zod';
import { EventKey, EventSource, IdentityEvent } from '../../model/event';
import { requireSource } from '../middleware/auth';
import type { SourceRateLimiter } from '../middleware/rate-limits';
import { declareRoute, mount } from '../openapi';
import { NotFoundProblem } from '../problems';
import type { EventService } from '../services/events';

const RunRef = z.looseObject({ flow: z.string(), workflowId: z.string(), hash: z.string() });

const Accepted = z
  .looseObject({
    source: z.string(),
    eventId: z.string(),
    dispatchWorkflowId: z.string(),
    duplicate: z.boolean(),
    runs: z.array(RunRef).optional().meta({ description: 'the runs started (a duplicate)' }),
    links: z.object({ self: z.string() }),
  })
  .meta({ id: 'EventAccepted' });

const submitEvent = declareRoute({
  method: 'post',
  path: '/v1/events',
  tag: 'events',
  summary: 'Send an identity event (joiner, mover, leaver, …)',
  description:
    "Answered 202 once Temporal durably accepted its dispatch; the same (source, id) again is 200 with the same runs, and with other content 409. A token bound to an event source may send only that source's events (403 otherwise), and no token may send the events of a source that takes only signed webhook deliveries (403); each source has a rate limit per minute (429 with Retry-After).",
  auth: { scope: 'events:write' },
  body: { schema: IdentityEvent, name: 'event' },
  responses: {
    202: { description: 'Accepted: the dispatch workflow started', schema: Accepted },
    200: { description: 'A duplicate of an accepted event: nothing new', schema: Accepted },
  },
  problems: [409],
});

const showEvent = declareRoute({
  method: 'get',
  path: '/v1/events/{source}/{id}',
  tag: 'events',
  summary: 'An event, its dispatch and the runs it started',
  auth: { scope: 'events:read' },
  params: z.object({ source: EventSource, id: EventKey }),
  // No event can have a source or id outside the grammar: nothing to look up.
  invalidParams: ({ source, id }) =>
    new NotFoundProblem(`no event ${source}/${id}: not a valid event source and id`),
  responses: {
    200: {
      description: 'The event and its runs with their status',
      schema: z.looseObject({ source: z.string(), eventId: z.string(), runs: z.array(RunRef) }),
    },
  },
  problems: [404],
});

export function eventRoutes(
  events: EventService,
  sources: SourceRateLimiter,
  /** 403 for a source that takes only signed deliveries (`POST /v1/webhooks/{source}`). */
  requireBearerSource: (source: string) => Promise<void> = () => Promise.resolve(),
): Router {
  const router = Router();

  mount(router, submitEvent, async (req, res, { body: event }) => {
    // a token bound to a source sends only its events (403), then the source's quota (429)
    requireSource(req, event.source);
    await requireBearerSource(event.source);
    await sources.checkSourceRate(event.source);
    const result = await events.submit(event);
    const self = `/v1/events/${encodeURIComponent(event.source)}/${encodeURIComponent(event.id)}`;
    res
      .status(result.status)
      .location(self)
      .json({ ...result.body, links: { self } });
  });

  mount(router, showEvent, async (_req, res, { params }) => {
    res.json(await events.get(params.source, params.id));
  });

  return router;
}
