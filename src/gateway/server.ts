/** Starting and stopping the gateway's HTTP server. */
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type { Express } from 'express';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logging';
import { openTasksByFlow } from '../db/repos/approval-tasks';
import { appendAudit } from '../db/repos/audit';
import { setPendingApprovalsSource } from '../metrics';
import { createApp } from './app';
import { SlackNotifier } from '../notify/slack';
import { slackRoutes } from './routes/slack';
import { ApprovalService } from './services/approvals';
import { AuditService } from './services/audit';
import { DependencyMonitor, temporalProbe } from './services/dependencies';
import { DryRunService } from './services/dry-runs';
import { EventService } from './services/events';
import { RunGraphService } from './services/graph';
import { AccessPlanService, PersonService } from './services/persons';
import { RefusalRecorder } from './services/refusals';
import { bearerSourceCheck } from './services/source-access';
import { WebhookAudit } from './services/webhook-audit';
import { WebhookService } from './services/webhooks';
import { ActiveSources } from '../sources/active';
import { WebhookSecrets } from '../sources/webhook-secrets';
import { ReviewService } from './services/reviews';
import { RunService } from './services/runs';
import { codecRoutes, codecSessionRoutes } from './routes/codec';
import { CodecService } from './services/codec';
import { TokenService } from './services/tokens';
import { ScimService } from '../scim/service';

export interface GatewayHandle {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** What a gateway can be given beyond its configuration. */
export interface GatewayParts {
  /** A source's own rate limit a minute (its definition's), or undefined for the default. */
  sourceRateLimitOf?: (source: string) => Promise<number | undefined>;
  /** Where refused requests are counted; startGateway writes what is left when it closes. */
  refusals?: RefusalRecorder;
  /** Where refused and replayed webhook deliveries are counted; written when the gateway closes. */
  webhookAudit?: WebhookAudit;
}

/** Counts refused requests and writes their `request.refused` rows every configured interval. */
export function refusalRecorder(config: Config, db: Database, logger: Logger): RefusalRecorder {
  return new RefusalRecorder({
    write: (entries) => appendAudit(db, entries),
    intervalMs: config.http.refusalAuditIntervalMs,
    onError: (err) =>
      logger.warn(
        { error: err instanceof Error ? err.name : typeof err },
        'refused requests could not be written to the audit trail; they are kept for the next try',
      ),
  });
}

/** Counts refused and replayed webhook deliveries; their rows are written every interval. */
export function webhookAudit(config: Config, db: Database, logger: Logger): WebhookAudit {
  return new WebhookAudit({
    write: (entries) => appendAudit(db, entries),
    intervalMs: config.http.refusalAuditIntervalMs,
    onError: (err) =>
      logger.warn(
        { error: err instanceof Error ? err.name : typeof err },
        'webhook refusals could not be written to the audit trail; they are kept for the next try',
      ),
  });
}

/** The gateway's Express app with its real services (tests list its routes from it). */
export function createGatewayApp(
  config: Config,
  db: Database,
  temporal: Client,
  logger: Logger,
  parts: GatewayParts = {},
): Express {
  const dependencies = new DependencyMonitor({
    temporal: temporalProbe(temporal),
    database: () => db.execute(sql`select 1`),
  });
  const approvals = new ApprovalService(db, temporal, dependencies);
  setPendingApprovalsSource(() => openTasksByFlow(db));
  const slack = config.slack
    ? new SlackNotifier(config.slack.botToken, config.slack.apiUrl)
    : undefined;
  const events = new EventService(db, temporal, config.temporal.taskQueue, dependencies);
  const sources = new ActiveSources(db);
  const secrets = new WebhookSecrets(({ variable, problem }) =>
    // once per variable, by name: deliveries signed with that secret are refused
    logger.warn({ variable }, `webhook secret ${variable} ${problem}`),
  );
  return createApp(
    {
      events,
      tokens: new TokenService(db),
      approvals,
      persons: new PersonService(db),
      audit: new AuditService(db),
      reviews: new ReviewService(db, temporal, dependencies),
      runs: new RunService(db, temporal, dependencies, config),
      graphs: new RunGraphService(db, temporal, dependencies),
      plans: new AccessPlanService(db, temporal, config.temporal.taskQueue, dependencies),
      dryRuns: new DryRunService(temporal, config.temporal.taskQueue, dependencies, db, config),
      dependencies,
      refusals: parts.refusals ?? refusalRecorder(config, db, logger),
      codec: {
        calls: codecRoutes(new CodecService(db, config.payloads.keys, config.temporal.namespace)),
        session: codecSessionRoutes(new TokenService(db), (action, actor, detail) =>
          appendAudit(db, {
            actor,
            action,
            target: 'codec:session',
            outcome: action.endsWith('-refused') ? 'refused' : 'ok',
            detail,
          }),
        ),
        corsOrigins: config.codec.corsOrigins,
      },
      webhooks: new WebhookService({
        db,
        sources,
        events,
        secrets,
        audit: parts.webhookAudit ?? webhookAudit(config, db, logger),
        onPruneError: (err) =>
          logger.warn(
            { error: err instanceof Error ? err.name : typeof err },
            'old webhook deliveries could not be pruned; tried again later',
          ),
      }),
      requireBearerSource: bearerSourceCheck(sources),
      scim: new ScimService(db, events, sources),
      slack: slackRoutes({
        db,
        approvals,
        ...(config.slack?.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
        ...(slack ? { slack } : {}),
      }),
    },
    {
      logger,
      rateLimitPerMinute: config.http.rateLimitPerMinute,
      sourceRateLimitPerMinute: config.http.sourceRateLimitPerMinute,
      // a source's own limit from its definition, unless the caller looks limits up itself
      sourceRateLimitOf:
        parts.sourceRateLimitOf ??
        (async (source) => (await sources.get(source))?.rateLimitPerMinute),
    },
  );
}

export async function startGateway(
  config: Config,
  db: Database,
  temporal: Client,
  logger: Logger,
  parts: GatewayParts = {},
): Promise<GatewayHandle> {
  const refusals = parts.refusals ?? refusalRecorder(config, db, logger);
  const webhooks = parts.webhookAudit ?? webhookAudit(config, db, logger);
  const app = createGatewayApp(config, db, temporal, logger, {
    ...parts,
    refusals,
    webhookAudit: webhooks,
  });
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
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      // the refusals counted since the last write, before the database closes
      await refusals.close();
      await webhooks.close();
    },
  };
}
