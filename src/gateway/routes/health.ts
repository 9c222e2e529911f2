/**
 * `GET /healthz` (liveness: the process serves requests) and `GET /readyz` (readiness: Temporal
 * and PostgreSQL answer). Neither needs a token; a load balancer sends traffic on /readyz and
 * restarts on /healthz, so a dependency outage never restarts the gateway.
 */
import { Router } from 'express';
import * as z from 'zod';
import { declareRoute, mount } from '../openapi';
import type { DependencyMonitor } from '../services/dependencies';

export const HEALTH_PATHS = ['/healthz', '/readyz'];

const Readiness = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.string()).meta({
    description: 'each dependency (temporal, database) and its health',
  }),
});

const alive = declareRoute({
  method: 'get',
  path: '/healthz',
  tag: 'health',
  summary: 'Liveness: the gateway serves requests',
  auth: 'public',
  responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
});

const ready = declareRoute({
  method: 'get',
  path: '/readyz',
  tag: 'health',
  summary: 'Readiness: Temporal and PostgreSQL answer',
  auth: 'public',
  responses: {
    200: { description: 'Ready', schema: Readiness },
    503: {
      description: 'A dependency is down',
      schema: Readiness,
      headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
    },
  },
});

export function healthRoutes(dependencies: DependencyMonitor): Router {
  const router = Router();
  mount(router, alive, (_req, res) => {
    res.json({ status: 'ok' });
  });
  mount(router, ready, async (_req, res) => {
    const checks = await dependencies.report();
    const ready = Object.values(checks).every((health) => health === 'ok');
    if (!ready) res.status(503).set('Retry-After', '5');
    res.json({ status: ready ? 'ok' : 'unavailable', checks });
  });
  return router;
}
