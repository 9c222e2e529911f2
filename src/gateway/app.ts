/**
 * The gateway: a thin HTTP layer. Routes authenticate, validate with zod and call services;
 * services hold the rules; repositories hold the SQL.
 */
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { loggedRequest, type Logger } from '../logging';
import { authenticate, principalIfAny, principalOf } from './middleware/auth';
import { codecCookie, codecCors } from './middleware/codec-access';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { eventMetrics, noteWorkflowIds, requestLogProps } from './middleware/observe';
import { SourceRateLimiter, tokenRateLimit } from './middleware/rate-limits';
import { auditRefusals, noteRefusedProblems } from './middleware/refusals';
import { requestGuard } from './middleware/request-guard';
import { approvalRoutes } from './routes/approvals';
import { auditRoutes } from './routes/audit';
import { docsRoutes } from './routes/docs';
import { eventRoutes } from './routes/events';
import { graphRoutes } from './routes/graph';
import { HEALTH_PATHS, healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { personRoutes } from './routes/persons';
import { planRoutes } from './routes/plan';
import { reviewRoutes } from './routes/reviews';
import { runRoutes } from './routes/runs';
import { scimRoutes } from './routes/scim';
import { scimDiscoveryRoutes } from './routes/scim-discovery';
import type { ScimService } from '../scim/service';
import { webhookRoutes } from './routes/webhooks';
import type { ApprovalService } from './services/approvals';
import type { AuditService } from './services/audit';
import type { DependencyMonitor } from './services/dependencies';
import type { DryRunService } from './services/dry-runs';
import type { EventService } from './services/events';
import type { RunGraphService } from './services/graph';
import type { AccessPlanService, PersonService } from './services/persons';
import type { ReviewService } from './services/reviews';
import type { RunService } from './services/runs';
import type { RefusalRecorder } from './services/refusals';
import type { TokenService } from './services/tokens';
import type { WebhookService } from './services/webhooks';

export interface GatewayServices {
  events: EventService;
  tokens: TokenService;
  approvals: ApprovalService;
  persons: PersonService;
  /** Correlation reviews and orphan accounts. */
  reviews: ReviewService;
  /** Runs: listing, one run, operators' decisions, a person's history. */
  runs: RunService;
  /** A run's flow diagram with the path it took. */
  graphs: RunGraphService;
  /** The audit trail: filtered pages and CSV. */
  audit: AuditService;
  /** Access plan previews, computed on the worker. */
  plans: AccessPlanService;
  /** Dry runs of events (`POST /v1/plan`), computed on the worker. */
  dryRuns: DryRunService;
  /** Slack interactions: the signature check and the route (absent when Slack is off). */
  slack: Router;
  /** Health of Temporal and PostgreSQL: /readyz, and 503 at once while one is down. */
  dependencies: DependencyMonitor;
  /** Users pushed over SCIM 2.0 (`/scim/v2`), each write an event of the token's source. */
  scim: ScimService;
  /** Signed webhook deliveries (Standard Webhooks): verification, replays, delivery. */
  webhooks: WebhookService;
  /**
   * Refuses (403) a bearer token sending events of a source that takes only signed deliveries
   * (its definition's `auth.bearer: false`).
   */
  requireBearerSource: (source: string) => Promise<void>;
  /** Refused requests (401, 403, 429), counted and written to the audit trail in the background. */
  refusals: RefusalRecorder;
  /**
   * The codec endpoint (payload decryption for the Temporal Web UI and CLI): its calls, behind
   * authentication; its sign-in page and form, before it; the browser origins CORS allows.
   */
  codec: { calls: Router; session: Router; corsOrigins: readonly string[] };
}

export interface GatewayOptions {
  logger: Logger;
  /** Requests per minute per token. */
  rateLimitPerMinute: number;
  /** Requests per minute carrying one source's events, where the source sets no limit. */
  sourceRateLimitPerMinute: number;
  /** A source's own limit (its definition's `rateLimit.perMinute`), or undefined for the default. */
  sourceRateLimitOf?: (source: string) => Promise<number | undefined>;
}

export function createApp(services: GatewayServices, options: GatewayOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger: options.logger,
      autoLogging: { ignore: (req) => HEALTH_PATHS.includes(req.url ?? '') },
      // the workflow ids a request started or acted on, so its log line leads to the runs
      customProps: (_req, res) => requestLogProps(res),
      // query values (a SCIM filter by email, a stray ?token=) never reach the log
      serializers: { req: loggedRequest },
    }),
  );
  app.use(noteWorkflowIds());
  // every 401, 403 and 429 below is counted for the audit trail, without the credential
  app.use(auditRefusals(services.refusals, principalIfAny));
  // per-source limits: checkSourceRate(source) for each route that takes a source's events
  const sources = new SourceRateLimiter({
    defaultPerMinute: options.sourceRateLimitPerMinute,
    ...(options.sourceRateLimitOf ? { perMinuteOf: options.sourceRateLimitOf } : {}),
    onLookupError: (err) =>
      options.logger.warn({ err }, 'a source rate limit lookup failed; the default applies'),
  });

  app.use(healthRoutes(services.dependencies));
  // the API's description needs neither a token nor a dependency
  app.use(docsRoutes());
  // what the SCIM service supports: no token, no database (RFC 7644 §4)
  app.use(scimDiscoveryRoutes());
  // the Web UI's calls to the codec endpoint: CORS, and preflights answered without a token
  app.use(codecCors(services.codec.corsOrigins));
  app.use(requestGuard());
  // Every route below reads tokens or writes audit rows: none can answer without PostgreSQL.
  app.use(services.dependencies.gate('database'));
  // Slack signs its requests; it sends no bearer token.
  app.use(services.slack);
  // Webhook senders sign their deliveries with the source's secrets; they send no bearer token.
  app.use(webhookRoutes({ webhooks: services.webhooks, checkSourceRate: sources.checkSourceRate }));
  // the codec sign-in takes its token in a form; the Web UI's codec calls bring it in a cookie
  app.use(services.codec.session);
  app.use(codecCookie());
  app.use(authenticate(services.tokens));
  app.use(eventMetrics());
  app.use(
    tokenRateLimit({
      perMinute: options.rateLimitPerMinute,
      tokenOf: (req) => principalOf(req).tokenId,
    }),
  );
  app.use(metricsRoutes());
  app.use(eventRoutes(services.events, sources, services.requireBearerSource));
  app.use(scimRoutes(services.scim, { checkSourceRate: sources.checkSourceRate }));
  app.use(approvalRoutes(services.approvals));
  app.use(personRoutes(services.persons, services.plans, services.runs));
  app.use(runRoutes(services.runs));
  app.use(graphRoutes(services.graphs));
  app.use(reviewRoutes(services.reviews));
  app.use(planRoutes(services.dryRuns));
  app.use(auditRoutes(services.audit));
  app.use(services.codec.calls);
  app.use(notFoundHandler());
  app.use(noteRefusedProblems());
  app.use(services.dependencies.noteFailures());
  app.use(errorHandler(options.logger));
  return app;
}
