/**
 * `POST /v1/webhooks/{source}`: an identity event delivered by a source's sender and signed
 * with Standard Webhooks instead of a bearer token. The signature is checked over the body's
 * bytes as received, before anything in the body is read; then the event goes the way of
 * `POST /v1/events`. Mounted before bearer authentication.
 */
import { Router, type Request, type RequestHandler } from 'express';
import * as z from 'zod';
import { countEvent } from '../../metrics';
import { EventSource, IdentityEvent } from '../../model/event';
import { jsonRequestProblem, parseJsonBody, rawBody } from '../middleware/json';
import { rejectReason } from '../middleware/observe';
import { declareRoute, mount } from '../openapi';
import { ValidationProblem } from '../problems';
import type { VerifiedDelivery, WebhookService } from '../services/webhooks';
import { fieldProblems } from '../zod-problems';

const Delivered = z
  .looseObject({
    source: z.string(),
    eventId: z.string(),
    dispatchWorkflowId: z.string(),
    duplicate: z.boolean(),
    webhookId: z.string().meta({ description: 'the delivery, as its webhook-id named it' }),
    runs: z
      .array(z.looseObject({ flow: z.string(), workflowId: z.string(), hash: z.string() }))
      .optional()
      .meta({ description: 'the runs started (a replay or a duplicate)' }),
    links: z.object({ self: z.string() }),
  })
  .meta({ id: 'WebhookDelivered' });

const deliverWebhook = declareRoute({
  method: 'post',
  path: '/v1/webhooks/{source}',
  tag: 'events',
  summary: 'A signed webhook delivery of an identity event (Standard Webhooks)',
  description: [
    "Authenticated by the source's Standard Webhooks secrets (its definition's `auth.webhook`), not a bearer token: `webhook-signature` holds `v1,<base64 HMAC-SHA256 of <webhook-id>.<webhook-timestamp>.<body>>` under any of the source's secrets, and `webhook-timestamp` must be within the source's tolerance (default 5 minutes). Unsigned, malformed, forged and stale deliveries, and deliveries to a source that takes none, are 401 and audited (`webhook.refused`).",
    "The body is an idflow event whose `source` is the path's (400 otherwise); it is accepted like `POST /v1/events`: 202 once its dispatch started, 200 for an event accepted before. The same webhook-id again is a replay: 200 `duplicate: true` with the first event's ids and nothing started (audited as `webhook.replayed`); the same webhook-id carrying another event is 409. 429 beyond the source's rate limit; 503 when the gateway has none of the source's secrets or a dependency is down (nothing accepted: the sender's retry delivers it). See docs/webhooks.md.",
  ].join('\n\n'),
  auth: 'webhook-signature',
  params: z.object({ source: EventSource }),
  headers: z.object({
    'webhook-id': z
      .string()
      .meta({ description: 'the delivery id, printable ASCII (1–256); the same id is a replay' }),
    'webhook-timestamp': z
      .string()
      .regex(/^\d+$/)
      .meta({ description: "unix seconds; refused beyond the source's tolerance either way" }),
    'webhook-signature': z.string().meta({
      description: 'space-separated `v1,<base64>` signatures; one made with any current secret',
    }),
  }),
  body: { schema: IdentityEvent, name: 'event', raw: true },
  responses: {
    202: { description: 'Accepted: the dispatch workflow started', schema: Delivered },
    200: {
      description: 'A replayed delivery, or an event accepted before: nothing new',
      schema: Delivered,
    },
  },
  problems: [409, 429],
});

const VERIFIED = Symbol('idflow.webhook');
const EVENT_TYPE = Symbol('idflow.webhook-event-type');

function verifiedOf(req: Request): VerifiedDelivery {
  const delivery = (req as unknown as Record<symbol, VerifiedDelivery | undefined>)[VERIFIED];
  if (!delivery) throw new Error('webhook route: the delivery was not verified');
  return delivery;
}

/** Checks the signature over the raw body; nothing in the body is read before it verified. */
function verifySignature(webhooks: WebhookService): RequestHandler {
  return async (req, res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const delivery = await webhooks.verify(
      String(req.params.source),
      {
        id: req.headers['webhook-id'],
        timestamp: req.headers['webhook-timestamp'],
        signature: req.headers['webhook-signature'],
      },
      raw,
    );
    (req as unknown as Record<symbol, VerifiedDelivery>)[VERIFIED] = delivery;
    // a verified delivery is an event sent: counted like POST /v1/events's (a refused one is not)
    res.once('finish', () => {
      const type = (req as unknown as Record<symbol, string | undefined>)[EVENT_TYPE];
      const source = delivery.source.name;
      if (res.statusCode === 202) countEvent('received', source, type);
      else if (res.statusCode === 200) countEvent('deduplicated', source, type);
      else countEvent('rejected', source, type, rejectReason(res.statusCode));
    });
    next();
  };
}

export interface WebhookRouteDeps {
  webhooks: WebhookService;
  /** The per-source rate limit: throws 429 for a source over its quota. */
  checkSourceRate: (source: string) => Promise<void>;
}

export function webhookRoutes({ webhooks, checkSourceRate }: WebhookRouteDeps): Router {
  const router = Router();
  mount(
    router,
    deliverWebhook,
    async (req, res, { params }) => {
      const delivery = verifiedOf(req);
      // a verified sender's quota: refused deliveries do not spend it
      await checkSourceRate(delivery.source.name);
      const mediaProblem = jsonRequestProblem(req);
      if (mediaProblem) throw mediaProblem;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const parsed = IdentityEvent.safeParse(parseJsonBody(raw));
      if (!parsed.success) throw new ValidationProblem('event', fieldProblems(parsed.error));
      const event = parsed.data;
      (req as unknown as Record<symbol, string>)[EVENT_TYPE] = event.type;
      if (event.source !== params.source)
        throw new ValidationProblem('event', [
          {
            path: '/source',
            message: `is '${event.source}', but this delivery is signed for source '${params.source}' (/v1/webhooks/${params.source}): send the event to its own source's URL`,
          },
        ]);
      const result = await webhooks.deliver(delivery, event);
      const self = `/v1/events/${encodeURIComponent(event.source)}/${encodeURIComponent(event.id)}`;
      res
        .status(result.status)
        .location(self)
        .json({ ...result.body, webhookId: delivery.webhookId, links: { self } });
    },
    // Content-Encoding other than identity was refused before (request-guard): the signature
    // covers the bytes as sent, and nothing is decompressed.
    [rawBody(), verifySignature(webhooks)],
  );
  return router;
}
