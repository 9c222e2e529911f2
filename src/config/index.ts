/**
 * idflow's configuration, parsed once from the environment at start-up. Every bad variable is
 * reported at once, by name; nothing else in idflow reads `process.env` (secrets referenced by
 * connector definitions are read through `readSecret`).
 */
import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import * as z from 'zod';
import { parsePrivateKey, parsePublicKey } from '../audit/keys';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const Port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a port number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

/** An Ed25519 key in a variable, parsed at start-up; a bad one is named, its text never shown. */
const AuditKey = (parse: typeof parsePrivateKey) =>
  z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  IDFLOW_DATA_DIR: z.string().min(1).default('.idflow'),
  IDFLOW_DEFINITIONS: z.string().min(1).default('definitions'),
  IDFLOW_HOST: z.string().min(1).default('127.0.0.1'),
  IDFLOW_PORT: Port.default(8080),
  IDFLOW_RATE_LIMIT_PER_MINUTE: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .default(6000),
  IDFLOW_LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, like 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('idflow'),
  TEMPORAL_UI_PORT: Port.default(8233),
  IDFLOW_TARGET_LDAP_PORT: Port.default(3389),
  IDFLOW_TARGET_SCIM_PORT: Port.default(8090),
  IDFLOW_TARGET_SMTP_PORT: Port.default(2525),
  TEMPORAL_CLI: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xox[abp]-/, 'must be a Slack bot token (xoxb-…)')
    .optional(),
  SLACK_SIGNING_SECRET: z
    .string()
    .min(16, 'must be the signing secret of the Slack app')
    .optional(),
  SLACK_API_URL: z
    .url({ error: 'must be a URL, like https://slack.com/api/' })
    .default('https://slack.com/api/'),
  IDFLOW_WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0 or more')
    .default(200),
  IDFLOW_WORKER_SHUTDOWN_GRACE: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'must be a duration like 30s')
    .default('30s'),
  IDFLOW_AUDIT_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number of days, like 365' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1')
    .optional(),
  IDFLOW_AUDIT_SIGNING_KEY: AuditKey(parsePrivateKey).optional(),
  IDFLOW_AUDIT_PUBLIC_KEY: AuditKey(parsePublicKey).optional(),
  IDFLOW_METRICS_PORT: Port.optional(),
  IDFLOW_TEMPORAL_METRICS_PORT: Port.optional(),
  IDFLOW_DEFINITION_RETENTION: z.coerce
    .number({ error: 'must be a number of versions, like 10' })
    .int('must be a whole number of versions, like 10')
    .min(1, 'must be at least 1 (the active version is always kept)')
    .max(100000, 'must be at most 100000')
    .default(10),
});

export interface Config {
  /** PostgreSQL URL; undefined means PGlite in `${dataDir}/pglite`. */
  databaseUrl?: string;
  dataDir: string;
  definitionsDir: string;
  http: { host: string; port: number; rateLimitPerMinute: number };
  logLevel: (typeof LOG_LEVELS)[number];
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    cli?: string;
  };
  /**
   * `maxCachedWorkflows`: runs kept in memory between their tasks. Runs beyond it (say, a
   * thousand waiting on approvals) are evicted and replayed from history when they wake.
   */
  worker: { shutdownGraceTime: string; maxCachedWorkflows: number };
  /**
   * `metricsPort`: where a worker run alone serves GET /metrics (on `http.host`); unset, it
   * serves none (the gateway's /metrics shows the worker's only in `idflow dev`).
   * `temporalPort`: the loopback port of the Temporal SDK's Prometheus exporter, read at
   * scrape time; unset, a free port is picked at start.
   */
  metrics: { port?: number; temporalPort?: number };
  /**
   * Versions kept per definition when `definitions apply` prunes; the active version, newer
   * drafts and versions running runs use are kept beyond it.
   */
  definitionRetention: number;
  /**
   * Ports of the local targets `idflow dev --with-targets` starts (slapd, SCIM, SMTP); the
   * reference connector definitions point at the defaults.
   */
  targets: { ldapPort: number; scimPort: number; smtpPort: number };
  /**
   * The audit trail: rows older than `retentionDays` are pruned by `idflow audit prune`
   * (unset: kept until pruned with --before); `signingKey` signs the checkpoint written before
   * a prune, `publicKey` verifies checkpoints (default: the signing key's public half).
   */
  audit: { retentionDays?: number; signingKey?: KeyObject; publicKey?: KeyObject };
  /** Slack, when configured: approval requests as direct messages with buttons. */
  slack?: { botToken: string; signingSecret?: string; apiUrl: string };
}

/** Configuration that names every bad variable, so start-up can fail with all of them. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Parses `env` (default: the process environment). Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      // never echo a secret's value
      const shown = /TOKEN|SECRET|PASSWORD|DATABASE_URL|_KEY$/.test(name)
        ? '(hidden)'
        : JSON.stringify(env[name] ?? '');
      return `${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = result.data;
  return {
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    dataDir: resolve(e.IDFLOW_DATA_DIR),
    definitionsDir: resolve(e.IDFLOW_DEFINITIONS),
    http: {
      host: e.IDFLOW_HOST,
      port: e.IDFLOW_PORT,
      rateLimitPerMinute: e.IDFLOW_RATE_LIMIT_PER_MINUTE,
    },
    logLevel: e.IDFLOW_LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      ...(e.TEMPORAL_CLI ? { cli: e.TEMPORAL_CLI } : {}),
    },
    worker: {
      shutdownGraceTime: e.IDFLOW_WORKER_SHUTDOWN_GRACE,
      maxCachedWorkflows: e.IDFLOW_WORKER_MAX_CACHED_WORKFLOWS,
    },
    metrics: {
      ...(e.IDFLOW_METRICS_PORT ? { port: e.IDFLOW_METRICS_PORT } : {}),
      ...(e.IDFLOW_TEMPORAL_METRICS_PORT ? { temporalPort: e.IDFLOW_TEMPORAL_METRICS_PORT } : {}),
    },
    definitionRetention: e.IDFLOW_DEFINITION_RETENTION,
    audit: {
      ...(e.IDFLOW_AUDIT_RETENTION_DAYS ? { retentionDays: e.IDFLOW_AUDIT_RETENTION_DAYS } : {}),
      ...(e.IDFLOW_AUDIT_SIGNING_KEY ? { signingKey: e.IDFLOW_AUDIT_SIGNING_KEY } : {}),
      ...(e.IDFLOW_AUDIT_PUBLIC_KEY ? { publicKey: e.IDFLOW_AUDIT_PUBLIC_KEY } : {}),
    },
    targets: {
      ldapPort: e.IDFLOW_TARGET_LDAP_PORT,
      scimPort: e.IDFLOW_TARGET_SCIM_PORT,
      smtpPort: e.IDFLOW_TARGET_SMTP_PORT,
    },
    ...(e.SLACK_BOT_TOKEN
      ? {
          slack: {
            botToken: e.SLACK_BOT_TOKEN,
            ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
            apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
          },
        }
      : {}),
  };
}

/**
 * The value of a secret a connector definition references with `{ secretEnv: NAME }`. The value
 * never appears in errors: only the variable's name does.
 */
export function readSecret(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`secret ${name} is not set in the environment of this process`);
  }
  return value;
}
