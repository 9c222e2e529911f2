/**
 * How browsers reach the codec endpoint. CORS: the Temporal Web UI's origins (configured,
 * IDFLOW_CODEC_CORS_ORIGINS) may call `/codec/decode` and `/codec/encode` with credentials; a
 * preflight `OPTIONS` is answered here, without a token. The cookie: the Web UI sends no bearer
 * token, so the token `POST /codec/session` put into the `idflow_codec` cookie (HttpOnly,
 * SameSite=Strict, path /codec) stands in for the Authorization header on those two paths;
 * authentication, scopes, rate limits and audit then treat it as any bearer token.
 */
import type { RequestHandler } from 'express';

/** The cookie holding the codec session's token. */
export const CODEC_COOKIE = 'idflow_codec';
/** The only paths the cookie is sent to. */
export const CODEC_COOKIE_PATH = '/codec';
/** How long a codec session lasts in the browser. */
export const CODEC_SESSION_SECONDS = 8 * 3600;

/** The paths CORS and the cookie apply to. */
const CODEC_CALLS = new Set(['/codec/decode', '/codec/encode']);

/** What a preflight may ask for. */
const ALLOWED_HEADERS = 'authorization, content-type, x-namespace';

/** The value of cookie `name` in a Cookie header, if there is one. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value || undefined;
    }
  }
  return undefined;
}

/**
 * CORS for the codec calls, and their preflights (204 whatever the origin; the CORS headers
 * only for an allowed one, so a browser elsewhere may not read the answer).
 */
export function codecCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    if (!CODEC_CALLS.has(req.path)) {
      next();
      return;
    }
    const origin = req.headers.origin;
    res.vary('Origin');
    if (origin && allowed.has(origin)) {
      res.set('Access-Control-Allow-Origin', origin);
      res.set('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    if (origin && allowed.has(origin)) {
      res.set('Access-Control-Allow-Methods', 'POST');
      res.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.set('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
  };
}

/** The codec session cookie as the bearer token, on the codec calls without an Authorization header. */
export function codecCookie(): RequestHandler {
  return (req, _res, next) => {
    if (CODEC_CALLS.has(req.path) && req.headers.authorization === undefined) {
      const token = cookieValue(req.headers.cookie, CODEC_COOKIE);
      if (token && /^[\x21-\x7e]{1,512}$/.test(token)) {
        try {
          req.headers.authorization = `Bearer ${decodeURIComponent(token)}`;
        } catch {
          // not a cookie idflow set: the call goes on without a token (401)
        }
      }
    }
    next();
  };
}
