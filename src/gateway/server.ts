/** Starting and stopping the gateway's HTTP server. */
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logging';
import { createApp } from './app';
import { SlackNotifier } from '../notify/slack';
import { slackRoutes } from './routes/slack';
import { ApprovalService } from './services/approvals';
import { EventService } from './services/events';
import { TokenService } from './services/tokens';

export interface GatewayHandle {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(
  config: Config,
  db: Database,
  temporal: Client,
  logger: Logger,
): Promise<GatewayHandle> {
  const approvals = new ApprovalService(db, temporal);
  const slack = config.slack
    ? new SlackNotifier(config.slack.botToken, config.slack.apiUrl)
    : undefined;
  const app = createApp(
    {
      events: new EventService(db, temporal, config.temporal.taskQueue),
      tokens: new TokenService(db),
      approvals,
      slack: slackRoutes({
        db,
        approvals,
        ...(config.slack?.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
        ...(slack ? { slack } : {}),
      }),
    },
    { logger, rateLimitPerMinute: config.http.rateLimitPerMinute },
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.http.port, config.http.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
