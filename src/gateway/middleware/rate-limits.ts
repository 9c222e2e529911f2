/**
 * Rate limits: per token (every authenticated request) and per event source (requests that
 * carry a source's events). Both answer 429 problem+json with `Retry-After` set to the seconds
 * until the window frees, never a constant.
 *
 * Using the per-source limit from a route
 * ---------------------------------------
 * The gateway builds one `SourceRateLimiter` (a default per minute from
 * `IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE`, overridden per source by the injected lookup) and hands
 * it to the routes that take a source's events:
 *
 *     // a route that knows its source from the path or the token (webhooks, SCIM writes):
 *     await sources.checkSourceRate(source);   // throws the 429 (RateLimitedProblem)
 *
 *     // or as middleware, when the source can be read off the request:
 *     router.post(path, sourceRateLimit(sources, (req) => req.params.source), handler);
 *
 * Call it after authentication and after the request is known to be of that source (so a
 * refused or malformed request does not spend the source's quota). The thrown problem carries
 * its refusal, so the audit trail counts it as `source-rate-limited` for that source.
 */
import type { Request, RequestHandler } from 'express';
import rateLimit from 'express-rate-limit';
import { HttpProblem } from '../problems';
import type { RefusalNote } from './refusals';

/** Seconds until `resetAt` (epoch ms), whole and at least 1: what `Retry-After` says. */
export function retryAfterSeconds(resetAt: number, now: number): number {
  return Math.max(1, Math.ceil((resetAt - now) / 1000));
}

/** 429: over a rate limit; `Retry-After` says when the window frees. */
export class RateLimitedProblem extends HttpProblem {
  constructor(
    detail: string,
    retryAfter: number,
    readonly refusal: RefusalNote,
    extra: Record<string, unknown> = {},
  ) {
    super(
      429,
      'rate-limited',
      'Too many requests',
      detail,
      { retryAfterSeconds: retryAfter, ...extra },
      { 'Retry-After': String(retryAfter) },
    );
  }
}

/**
 * The per-token limit: `perMinute` requests a minute per token (the key `tokenOf` gives), with
 * the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers on every answer.
 */
export function tokenRateLimit(options: {
  perMinute: number;
  tokenOf: (req: Request) => string;
  windowMs?: number;
}): RequestHandler {
  const windowMs = options.windowMs ?? 60_000;
  return rateLimit({
    windowMs,
    limit: options.perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: options.tokenOf,
    handler: (req, _res, next) => {
      const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
      const resetAt = info?.resetTime?.getTime() ?? Date.now() + windowMs;
      next(
        new RateLimitedProblem(
          `at most ${options.perMinute} requests a minute per token`,
          retryAfterSeconds(resetAt, Date.now()),
          { reason: 'token-rate-limited' },
          { limit: options.perMinute },
        ),
      );
    },
  });
}

/** What one request of a source meets: allowed or not, the limit and when the window frees. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the window ends. */
  resetAt: number;
  retryAfterSeconds: number;
}

export interface SourceRateLimitOptions {
  /** Requests a minute per source where the lookup names none. */
  defaultPerMinute: number;
  /**
   * A source's own limit (its definition's `rateLimit.perMinute`), or undefined for the default;
   * an answer below 1 or not finite is taken as none, a fraction is rounded down.
   */
  perMinuteOf?: (source: string) => Promise<number | undefined>;
  /** How long a looked-up limit is used before it is looked up again (default 30 s). */
  lookupCacheMs?: number;
  /** Sources counted at most at once (default 10000); beyond them, new sources share one count. */
  maxSources?: number;
  /** Told when the lookup fails; the default limit is used meanwhile. */
  onLookupError?: (err: unknown) => void;
  windowMs?: number;
  now?: () => number;
}

const SHARED = '\u0000shared';

/**
 * Counts requests per source in fixed windows (a window starts with a source's first request
 * after the last one ended). `checkSourceRate` is the call other routes make.
 */
export class SourceRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly limits = new Map<string, { at: number; perMinute: number }>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SourceRateLimitOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The limit a source has now: its own (looked up, cached) or the default. */
  async limitOf(source: string): Promise<number> {
    const now = this.now();
    const cached = this.limits.get(source);
    if (cached && now - cached.at < (this.options.lookupCacheMs ?? 30_000)) return cached.perMinute;
    let perMinute = this.options.defaultPerMinute;
    try {
      const own = await this.options.perMinuteOf?.(source);
      if (own !== undefined && Number.isFinite(own) && own >= 1) perMinute = Math.floor(own);
    } catch (err) {
      this.options.onLookupError?.(err);
    }
    if (this.limits.size >= (this.options.maxSources ?? 10_000)) this.limits.clear();
    this.limits.set(source, { at: now, perMinute });
    return perMinute;
  }

  /** Counts one request of `source` and says whether it is within the limit. */
  async take(source: string): Promise<RateDecision> {
    const limit = await this.limitOf(source);
    const now = this.now();
    const key = this.keyFor(source, now);
    let window = this.windows.get(key);
    if (!window || now >= window.start + this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    const resetAt = window.start + this.windowMs;
    return {
      allowed: window.count <= limit,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetAt,
      retryAfterSeconds: retryAfterSeconds(resetAt, now),
    };
  }

  /** The count `source` is kept under: its own, or a shared one once too many are counted. */
  private keyFor(source: string, now: number): string {
    const max = this.options.maxSources ?? 10_000;
    if (this.windows.has(source) || this.windows.size < max) return source;
    for (const [key, w] of this.windows)
      if (now >= w.start + this.windowMs) this.windows.delete(key);
    return this.windows.size < max ? source : SHARED;
  }

  /**
   * Counts one request of `source`; throws RateLimitedProblem (429, Retry-After) when the
   * source is over its limit. An arrow, so routes can be handed the function alone.
   */
  readonly checkSourceRate = async (source: string): Promise<void> => {
    const decision = await this.take(source);
    if (decision.allowed) return;
    throw new RateLimitedProblem(
      `source '${source}' sends at most ${decision.limit} requests a minute`,
      decision.retryAfterSeconds,
      { reason: 'source-rate-limited', source },
      { source, limit: decision.limit },
    );
  };
}

/** Middleware form: limits the request by the source `sourceOf` reads (none: not limited). */
export function sourceRateLimit(
  limiter: SourceRateLimiter,
  sourceOf: (req: Request) => string | undefined,
): RequestHandler {
  return async (req, _res, next) => {
    const source = sourceOf(req);
    if (source !== undefined) await limiter.checkSourceRate(source);
    next();
  };
}
