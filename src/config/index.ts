/**
 * idflow's configuration, parsed once from the environment at start-up. Every bad variable is
 * reported at once, by name; nothing else in idflow reads `process.env` (secrets referenced by
 * connector definitions are read through `readSecret`).
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { parsePrivateKey, parsePublicKey } from '../audit/keys';
import { parseDuration } from '../dsl/duration';
import type { PayloadKey } from '../temporal/codec';
import { PAYLOAD_KEYS_FILE, parsePayloadKeys } from '../temporal/payload-keys';
import {
  EnvBoolean,
  temporalConnectionSettings,
  type TemporalConnectionSettings,
} from './temporal-tls';

export type { TemporalConnectionSettings, TemporalTls } from './temporal-tls';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const Port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a port number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

/** A file's path; whether it can be read is checked once every variable parsed. */
const FilePath = z.string().min(1, 'must be a file path (unset it instead of leaving it empty)');

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

/** Payload keys in a variable: every bad entry is an issue of its own, no key ever shown. */
const PayloadKeys = z.string().transform((text, ctx) => {
  const { keys, problems } = parsePayloadKeys(text);
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return problems.length ? z.NEVER : keys;
});

/** Comma-separated browser origins (`scheme://host[:port]`), each checked. */
const Origins = z.string().transform((text, ctx) => {
  const origins = text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const [i, origin] of origins.entries()) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol))
      ctx.addIssue({
        code: 'custom',
        message: `entry ${i + 1} must be an origin like http://127.0.0.1:8233 (scheme, host and port, no path)`,
      });
  }
  return origins;
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
  IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .default(6000),
  IDFLOW_REFUSAL_AUDIT_INTERVAL: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'must be a duration like 60s')
    .transform((text) => parseDuration(text) as number)
    .refine((ms) => ms >= 100 && ms <= 3_600_000, 'must be between 100ms and 60m')
    .default(60_000),
  IDFLOW_LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, like 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('idflow'),
  TEMPORAL_API_KEY: z.string().min(1, 'must not be empty (unset it for no API key)').optional(),
  TEMPORAL_TLS: EnvBoolean.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: FilePath.optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: FilePath.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: FilePath.optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1, 'must not be empty (unset it instead)').optional(),
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: EnvBoolean.optional(),
  TEMPORAL_UI_PORT: Port.default(8233),
  IDFLOW_REGISTER_SEARCH_ATTRIBUTES: z
    .enum(['auto', 'true', 'false'], { error: 'must be auto, true or false' })
    .default('auto'),
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
  IDFLOW_DATABASE_POOL_SIZE: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(10),
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
  IDFLOW_PAYLOAD_KEYS: PayloadKeys.optional(),
  IDFLOW_VISIBLE_PERSONAL_DATA: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false'),
  IDFLOW_CODEC_CORS_ORIGINS: Origins.optional(),
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
  /** PostgreSQL connections each idflow process keeps at most. */
  databasePoolSize: number;
  dataDir: string;
  definitionsDir: string;
  /**
   * `rateLimitPerMinute`: requests a minute per token. `sourceRateLimitPerMinute`: requests a
   * minute carrying one event source's events, where the source's definition sets no
   * `rateLimit.perMinute`. `refusalAuditIntervalMs`: how long refused requests (401, 403, 429)
   * are counted before their aggregate `request.refused` rows are written.
   */
  http: {
    host: string;
    port: number;
    rateLimitPerMinute: number;
    sourceRateLimitPerMinute: number;
    refusalAuditIntervalMs: number;
  };
  logLevel: (typeof LOG_LEVELS)[number];
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    cli?: string;
    /**
     * Whether the worker and the gateway register idflow's search attributes the namespace
     * lacks (`auto`, `true`: try, and exit naming them if the server refuses; `false`: only
     * check, and exit naming the missing ones).
     */
    registerSearchAttributes: 'auto' | 'true' | 'false';
    /**
     * TLS, mTLS and the API key (TEMPORAL_TLS*, TEMPORAL_API_KEY), files already read; every
     * connection to Temporal is built from them by `temporalConnectionOptions`.
     */
    connection: TemporalConnectionSettings;
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
  /**
   * Payload encryption (docs/security.md). `keys`: newest first, the first encrypts, all
   * decrypt; none means payloads are not encrypted. `keySource`: where they came from
   * (`environment` when IDFLOW_PAYLOAD_KEYS is set, even empty; `data-dir` from the data
   * directory's `payload-keys` file, which `idflow dev` writes; `none`).
   * `visiblePersonalData`: whether the static summaries and details the Web UI shows without
   * decryption may name persons (default: ids, flow names, event types and step ids only).
   */
  payloads: {
    keys: PayloadKey[];
    keySource: 'environment' | 'data-dir' | 'none';
    visiblePersonalData: boolean;
  };
  /** The codec endpoint (`/codec/*`): browser origins (the Web UI's) allowed to call it. */
  codec: { corsOrigins: string[] };
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
      const shown = /TOKEN|SECRET|PASSWORD|DATABASE_URL|_KEYS?$/.test(name)
        ? '(hidden)'
        : JSON.stringify(env[name] ?? '');
      return `${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = result.data;
  const temporalConnection = temporalConnectionSettings(e);
  if (temporalConnection.problems.length) throw new ConfigError(temporalConnection.problems);
  const dataDir = resolve(e.IDFLOW_DATA_DIR);
  const fromFile = e.IDFLOW_PAYLOAD_KEYS === undefined ? keysInDataDir(dataDir) : undefined;
  return {
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    databasePoolSize: e.IDFLOW_DATABASE_POOL_SIZE,
    dataDir,
    definitionsDir: resolve(e.IDFLOW_DEFINITIONS),
    http: {
      host: e.IDFLOW_HOST,
      port: e.IDFLOW_PORT,
      rateLimitPerMinute: e.IDFLOW_RATE_LIMIT_PER_MINUTE,
      sourceRateLimitPerMinute: e.IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE,
      refusalAuditIntervalMs: e.IDFLOW_REFUSAL_AUDIT_INTERVAL,
    },
    logLevel: e.IDFLOW_LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      registerSearchAttributes: e.IDFLOW_REGISTER_SEARCH_ATTRIBUTES,
      connection: temporalConnection.settings,
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
    payloads: {
      keys: e.IDFLOW_PAYLOAD_KEYS ?? fromFile ?? [],
      keySource:
        e.IDFLOW_PAYLOAD_KEYS !== undefined ? 'environment' : fromFile ? 'data-dir' : 'none',
      visiblePersonalData: e.IDFLOW_VISIBLE_PERSONAL_DATA === 'true',
    },
    codec: {
      corsOrigins: e.IDFLOW_CODEC_CORS_ORIGINS ?? [
        `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`,
        `http://localhost:${e.TEMPORAL_UI_PORT}`,
      ],
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
 * The keys in the data directory's `payload-keys` file (written by `idflow dev`), or undefined
 * when there is no such file. A file that is there but wrong is a ConfigError naming it.
 */
function keysInDataDir(dataDir: string): PayloadKey[] | undefined {
  const path = join(dataDir, PAYLOAD_KEYS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const { keys, problems } = parsePayloadKeys(text);
  if (problems.length) throw new ConfigError(problems.map((p) => `${path}: ${p}`));
  return keys.length ? keys : undefined;
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
