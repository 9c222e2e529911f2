/**
 * `GET /healthz` (liveness: the process serves requests) and `GET /readyz` (readiness: Temporal
 * and PostgreSQL answer). Neither needs a token; a load balancer sends traffic on /readyz and
 * restarts on /healthz, so a dependency outage never restarts the gateway.
 */
import { Router } from 'express';
import type { DependencyMonitor } from '../services/dependencies';

export const HEALTH_PATHS = ['/healthz', '/readyz'];

export function healthRoutes(dependencies: DependencyMonitor): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await dependencies.report();
    const ready = Object.values(checks).every((health) => health === 'ok');
    if (!ready) res.status(503).set('Retry-After', '5');
    res.json({ status: ready ? 'ok' : 'unavailable', checks });
  });
  return router;
}
