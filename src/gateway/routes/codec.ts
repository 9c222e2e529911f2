/**
 * The codec endpoint: `POST /codec/decode` and `POST /codec/encode` speak Temporal's remote
 * codec protocol, so the Temporal Web UI and `temporal … --codec-endpoint <gateway>/codec`
 * show decrypted payloads to whoever holds a token with `payloads:decode`. The Web UI sends no
 * bearer token of its own: `/codec/session` puts a token into an HttpOnly cookie for the
 * gateway's /codec paths, which the Web UI sends with "include cross-origin credentials".
 * CORS and the cookie are in middleware/codec-access.ts; the rules in services/codec.ts.
 */
import express, { Router, type Request, type RequestHandler } from 'express';
import * as z from 'zod';
import { parseJsonBody } from '../middleware/json';
import { declareRoute, mount } from '../openapi';
import { HttpProblem, ValidationProblem } from '../problems';
import { fieldProblems } from '../zod-problems';
import { principalOf } from '../middleware/auth';
import {
  CODEC_MAX_BODY_BYTES,
  CodecPayloads,
  type CodecService,
  type JsonPayload,
} from '../services/codec';
import type { TokenService } from '../services/tokens';
import { CODEC_COOKIE, CODEC_COOKIE_PATH, CODEC_SESSION_SECONDS } from '../middleware/codec-access';
import { sessionPage, signedInPage } from './codec-pages';

const MEDIA_TYPE = 'application/json; charset=utf-8';

const NamespaceHeader = z.object({
  'x-namespace': z
    .string()
    .optional()
    .meta({ description: "Temporal's namespace; when sent, it must be idflow's" }),
});

const codecRoute = (kind: 'decode' | 'encode') =>
  declareRoute({
    method: 'post',
    path: `/codec/${kind}`,
    tag: 'codec',
    summary:
      kind === 'decode'
        ? 'Decrypt payloads for the Temporal Web UI and CLI (remote codec protocol)'
        : 'Encrypt payloads with the current key (remote codec protocol)',
    description: [
      'Temporal\'s remote codec protocol: the body is `{"payloads": [...]}`, each a Payload in proto3 JSON, answered in the same shape.',
      kind === 'decode'
        ? 'Payloads that are not `binary/encrypted` come back as sent; an encrypted payload under a key that is not configured is a 400 naming the key id.'
        : 'Payloads marked `idflow-visible` come back as sent.',
      'Authenticated by a bearer token or by the `idflow_codec` cookie `POST /codec/session` sets (the Web UI sends no token). CORS for the configured Web UI origins (`IDFLOW_CODEC_CORS_ORIGINS`); a preflight `OPTIONS` needs no token. 404 when payload encryption is not configured. Every call is audited: who, how many payloads, which key ids; never their contents. At most 8 MiB and 1000 payloads.',
    ].join('\n\n'),
    auth: { scope: kind === 'decode' ? 'payloads:decode' : 'payloads:encode' },
    headers: NamespaceHeader,
    body: { name: 'payloads', schema: CodecPayloads, mediaType: MEDIA_TYPE },
    responses: { 200: { description: 'The payloads, decoded or encoded', schema: CodecPayloads } },
    problems: [404, 415],
  });

const decodeRoute = codecRoute('decode');
const encodeRoute = codecRoute('encode');

const sessionForm = declareRoute({
  method: 'get',
  path: '/codec/session',
  tag: 'codec',
  summary: 'A page to sign the browser in for decoding in the Temporal Web UI',
  auth: 'public',
  responses: { 200: { description: 'The page', schema: z.string(), mediaType: 'text/html' } },
});

const startSession = declareRoute({
  method: 'post',
  path: '/codec/session',
  tag: 'codec',
  summary: 'Sign the browser in for the codec endpoint: a token into an HttpOnly cookie',
  description: `Takes a token with the \`payloads:decode\` scope (form field \`token\`) and sets the \`${CODEC_COOKIE}\` cookie (HttpOnly, SameSite=Strict, path ${CODEC_COOKIE_PATH}, ${CODEC_SESSION_SECONDS / 3600} hours) the Web UI sends to /codec/decode with "include cross-origin credentials". The token is checked on every call, so revoking it ends the session. Audited.`,
  auth: 'public',
  body: {
    name: 'form',
    mediaType: 'application/x-www-form-urlencoded',
    schema: z.object({ token: z.string().meta({ description: 'an idflow API token' }) }),
  },
  responses: {
    200: {
      description: 'Signed in: the cookie is set',
      schema: z.string(),
      mediaType: 'text/html',
      headers: { 'Set-Cookie': { description: `${CODEC_COOKIE}=…; HttpOnly; SameSite=Strict` } },
    },
  },
  problems: [401, 403, 415, 503],
});

/** The page's own policy: no script, the form posts here, over HTTP too (no upgrade). */
const PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A codec call's body: JSON, UTF-8, up to CODEC_MAX_BODY_BYTES, then the protocol's shape. */
function codecBody(): RequestHandler[] {
  const read = express.raw({ limit: CODEC_MAX_BODY_BYTES, type: () => true, inflate: false });
  const check: RequestHandler = (req, _res, next) => {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type))
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `send the payloads as application/json (got ${type || 'no content type'})`,
      );
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(type)?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset))
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `send the body as UTF-8 (got charset ${charset || '(empty)'})`,
      );
    next();
  };
  const parse: RequestHandler = (req, _res, next) => {
    const value = parseJsonBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    const parsed = CodecPayloads.safeParse(value);
    if (!parsed.success) throw new ValidationProblem('payloads', fieldProblems(parsed.error));
    req.body = parsed.data;
    next();
  };
  return [check, read, parse];
}

/** Who calls; the namespace when the caller names one (the CLI sends it empty by default). */
function caller(req: Request) {
  const namespace = req.header('x-namespace')?.trim();
  return { principal: principalOf(req), ...(namespace ? { namespace } : {}) };
}

/** The codec calls, behind bearer (or cookie) authentication. */
export function codecRoutes(codec: CodecService): Router {
  const router = Router();
  for (const [route, run] of [
    [decodeRoute, (req: Request, p: JsonPayload[]) => codec.decode(caller(req), p)],
    [encodeRoute, (req: Request, p: JsonPayload[]) => codec.encode(caller(req), p)],
  ] as const)
    mount(
      router,
      route,
      async (req, res) => {
        const { payloads } = req.body as { payloads: JsonPayload[] };
        res.set('Cache-Control', 'no-store').json({ payloads: await run(req, payloads) });
      },
      codecBody(),
    );
  return router;
}

/** The sign-in page and form, before bearer authentication (the token comes in the form). */
export function codecSessionRoutes(tokens: TokenService, audit: SessionAudit): Router {
  const router = Router();
  mount(router, sessionForm, (_req, res) => {
    res.set('Content-Security-Policy', PAGE_POLICY).type('html').send(sessionPage());
  });
  mount(
    router,
    startSession,
    async (req, res) => {
      const form = (req.body ?? {}) as Record<string, unknown>;
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      if (!req.is('application/x-www-form-urlencoded'))
        throw new HttpProblem(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          'send the form as application/x-www-form-urlencoded',
        );
      if (!token || !/^\S{1,512}$/.test(token))
        throw new ValidationProblem('form', [{ path: '/token', message: 'paste an API token' }]);
      const principal = await tokens.authenticate(token);
      // a refused sign-in is counted in the aggregated request.refused rows (anyone can send
      // one: a row each would let a flood of them fill the audit trail)
      if (!principal)
        throw Object.assign(
          new HttpProblem(
            401,
            'unauthorized',
            'Authentication required',
            'the token is unknown, revoked or expired',
          ),
          { refusal: { reason: 'unknown-token' as const } },
        );
      if (!principal.scopes.has('payloads:decode') && !principal.scopes.has('admin'))
        throw Object.assign(
          new HttpProblem(
            403,
            'forbidden',
            'Not allowed',
            `token '${principal.name}' may not decode payloads: it needs the 'payloads:decode' scope`,
          ),
          {
            refusal: {
              reason: 'missing-scope' as const,
              tokenId: principal.tokenId,
              tokenName: principal.name,
            },
          },
        );
      await audit('codec.session-started', `token:${principal.name}`, {});
      res.cookie(CODEC_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: CODEC_COOKIE_PATH,
        maxAge: CODEC_SESSION_SECONDS * 1000,
      });
      res
        .set('Content-Security-Policy', PAGE_POLICY)
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(signedInPage(principal.name));
    },
    [express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 })],
  );
  return router;
}

/** Writes the session's audit row: action, actor, detail. */
export type SessionAudit = (
  action: string,
  actor: string,
  detail: Record<string, unknown>,
) => Promise<void>;
