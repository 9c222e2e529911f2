/**
 * `GET /metrics`: idflow's metrics and the Temporal SDK's worker metrics in the Prometheus text
 * format, for a token with the `metrics:read` scope (Prometheus sends it as a bearer token).
 */
import { Router } from 'express';
import * as z from 'zod';
import { renderMetrics } from '../../metrics';
import { declareRoute, mount } from '../openapi';

const scrape = declareRoute({
  method: 'get',
  path: '/metrics',
  tag: 'operations',
  summary: 'Metrics in the Prometheus text format',
  description:
    'Events received, deduplicated and rejected; runs started, completed, parked, failed, cancelled and over budget; connector op latency; approvals pending; process and Temporal SDK worker metrics. The names and labels are listed in docs/operations.md.',
  auth: { scope: 'metrics:read' },
  responses: {
    200: {
      description: 'The metrics',
      schema: z.string(),
      mediaType: 'text/plain; version=0.0.4; charset=utf-8',
    },
  },
});

export function metricsRoutes(): Router {
  const router = Router();
  mount(router, scrape, async (_req, res) => {
    const { contentType, body } = await renderMetrics();
    res.set('Cache-Control', 'no-store').type(contentType).send(body);
  });
  return router;
}
