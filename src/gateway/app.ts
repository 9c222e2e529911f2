/**
 * The gateway: a thin HTTP layer. Routes authenticate, validate with zod and call services;
 * services hold the rules; repositories hold the SQL.
 */
import express, { type Express, type Router } from 'express';
import rateLimit from 'express-rate-limit';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logging';
import { authenticate, principalOf } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { eventMetrics, noteWorkflowIds, requestLogProps } from './middleware/observe';
import { requestGuard } from './middleware/request-guard';
import { HttpProblem } from './problems';
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
import type { ApprovalService } from './services/approvals';
import type { AuditService } from './services/audit';
import type { DependencyMonitor } from './services/dependencies';
import type { DryRunService } from './services/dry-runs';
import type { EventService } from './services/events';
import type { RunGraphService } from './services/graph';
import type { AccessPlanService, PersonService } from './services/persons';
import type { ReviewService } from './services/reviews';
import type { RunService } from './services/runs';
import type { TokenService } from './services/tokens';

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
}

export interface GatewayOptions {
  logger: Logger;
  /** Requests per minute per token. */
  rateLimitPerMinute: number;
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
    }),
  );
  app.use(noteWorkflowIds());

  app.use(healthRoutes(services.dependencies));
  // the API's description needs neither a token nor a dependency
  app.use(docsRoutes());
  app.use(requestGuard());
  // Every route below reads tokens or writes audit rows: none can answer without PostgreSQL.
  app.use(services.dependencies.gate('database'));
  // Slack signs its requests; it sends no bearer token.
  app.use(services.slack);
  app.use(authenticate(services.tokens));
  app.use(eventMetrics());
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: options.rateLimitPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => principalOf(req).tokenId,
      handler: (_req, _res, next) => {
        next(
          new HttpProblem(
            429,
            'rate-limited',
            'Too many requests',
            `at most ${options.rateLimitPerMinute} requests a minute per token`,
            {},
            { 'Retry-After': '60' },
          ),
        );
      },
    }),
  );
  app.use(metricsRoutes());
  app.use(eventRoutes(services.events));
  app.use(approvalRoutes(services.approvals));
  app.use(personRoutes(services.persons, services.plans, services.runs));
  app.use(runRoutes(services.runs));
  app.use(graphRoutes(services.graphs));
  app.use(reviewRoutes(services.reviews));
  app.use(planRoutes(services.dryRuns));
  app.use(auditRoutes(services.audit));
  app.use(notFoundHandler());
  app.use(services.dependencies.noteFailures());
  app.use(errorHandler(options.logger));
  return app;
}
