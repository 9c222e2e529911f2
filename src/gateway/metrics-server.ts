/**
 * The HTTP server of a worker run alone (`idflow worker` with IDFLOW_METRICS_PORT): `GET
 * /metrics` with the gateway's token check and scope, and `GET /healthz`. Nothing else: the
 * worker takes no requests.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Database } from '../db/client';
import type { Logger } from '../logging';
import { authenticate } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { metricsRoutes } from './routes/metrics';
import { TokenService } from './services/tokens';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(
  db: Database,
  logger: Logger,
  host: string,
  port: number,
): Promise<MetricsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(authenticate(new TokenService(db)));
  app.use(metricsRoutes());
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
