/**
 * The gateway's routes, each declared once: the declaration is what the router mounts and
 * validates with, and what `GET /openapi.json` describes, so the document cannot drift from
 * the code.
 *
 * How to declare a route
 * ----------------------
 * 1. In the route module, at top level (once per process), declare it with OpenAPI's path
 *    syntax and the zod schemas the handler needs:
 *
 *        const showRun = declareRoute({
 *          method: 'get',
 *          path: '/v1/runs/{workflowId}',
 *          tag: 'runs',
 *          summary: 'One run: its steps, approvals and what it waits on',
 *          auth: { scope: 'runs:read' },            // or 'public', or 'slack-signature'
 *          params: z.object({ workflowId: WorkflowId }),
 *          query: z.object({ … }),                    // optional
 *          body: { schema: RunAction, name: 'action' }, // optional; JSON, read by jsonBody()
 *          responses: { 200: { description: 'The run', schema: RunView } },
 *          problems: [404],                           // beyond those the declaration implies
 *        });
 *
 * 2. In the router factory, mount it with its handler:
 *
 *        mount(router, showRun, async (req, res, { params, query, body }) => { … });
 *
 *    `mount` checks the token's scope (403), reads the JSON body (400, 413, 415), validates the
 *    path, the query and the body with the declared schemas (400 naming every field, or what
 *    `invalidParams` answers) and hands the handler the parsed values.
 *
 * 3. That is all: the route is in `/openapi.json` and `/docs`. test/unit/openapi.test.ts walks
 *    the app's router and fails, naming the route, for one served without a declaration or
 *    declared without being served.
 *
 * Problems a declaration implies: 401, 403 and 429 for a bearer scope; 400 and 503 for every
 * route behind the database gate (all but 'public' ones); 413 and 415 with a body.
 */
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  zodToOpenAPIRegistry,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import type * as z from 'zod';
import { requireScope } from './middleware/auth';
import { jsonBody } from './middleware/json';
import { JsonValue } from '../model/event';
import type { HttpProblem } from './problems';
import { ProblemDocument, ValidationProblem } from './problems';
import type { Scope } from './services/tokens';
import { fieldProblems } from './zod-problems';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route: a bearer token with a scope, anyone, Slack (signed requests), or a
 * source's sender signing with Standard Webhooks (`webhook-signature`).
 */
export type RouteAuth = { scope: Scope } | 'public' | 'slack-signature' | 'webhook-signature';

/** A status the route answers with: its description and, for a body, the body's schema. */
export interface ResponseDeclaration {
  description: string;
  /** The body's schema; absent for an answer without a body (204, a redirect). */
  schema?: z.ZodType;
  /** The body's media type (default application/json). */
  mediaType?: string;
  /** Headers of the answer, by name. */
  headers?: Record<string, { description: string; schema?: { type: 'string' | 'integer' } }>;
}

export interface RequestBodyDeclaration<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** What the body is, for the 400's title: "The <name> is not valid". */
  name: string;
  /** Default application/json, read and validated by `mount`; another type is only described. */
  mediaType?: string;
  /** Per-field encodings of a form body (OpenAPI's `encoding`). */
  encoding?: Record<string, { contentType: string }>;
  /**
   * The route reads and validates the body itself, after checking a signature over its bytes
   * (signed webhooks): described like any JSON body, but `mount` leaves the bytes alone.
   */
  raw?: true;
}

export interface RouteDeclaration<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends RequestBodyDeclaration | undefined = undefined,
> {
  method: Method;
  /** OpenAPI syntax: `/v1/events/{source}/{id}`. */
  path: string;
  /** The group the route is listed under in /docs. */
  tag: string;
  summary: string;
  description?: string;
  auth: RouteAuth;
  params?: P;
  /** What the path names, for the 400's title ("The person id is not valid"); default "path". */
  paramsName?: string;
  /** The answer to a path that does not fit `params` (default: 400 naming the fields). */
  invalidParams?: (raw: Record<string, string>) => HttpProblem;
  query?: Q;
  body?: B;
  /** Request headers the route reads, documented (the handler checks them). */
  headers?: z.ZodObject;
  responses: Record<number, ResponseDeclaration>;
  /** Problem statuses beyond those `auth`, `params`, `query` and `body` imply. */
  problems?: number[];
  /**
   * The body of the route's error answers, when it is not problem+json: SCIM routes answer
   * SCIM error documents (`application/scim+json`).
   */
  errors?: { mediaType: string; schema: z.ZodType };
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOut<B> = B extends RequestBodyDeclaration<infer S> ? z.output<S> : undefined;

/** What `mount` hands a handler: the path, query and body as the declared schemas parsed them. */
export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: BodyOut<B>;
}

/** A declaration of any schemas. */
type AnyRoute = RouteDeclaration<
  z.ZodObject | undefined,
  z.ZodObject | undefined,
  RequestBodyDeclaration | undefined
>;

const declared = new Map<string, AnyRoute>();

function keyOf(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

/** Declares a route once, at module load; the same method and path twice is a programming error. */
export function declareRoute<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends RequestBodyDeclaration | undefined = undefined,
>(route: RouteDeclaration<P, Q, B>): RouteDeclaration<P, Q, B> {
  const key = keyOf(route.method, route.path);
  if (declared.has(key)) throw new Error(`route ${key} is declared twice`);
  declared.set(key, route);
  return route;
}

/** Every declared route, as `METHOD /path/{param}`. */
export function declaredRoutes(): string[] {
  return [...declared.keys()];
}

/** The declaration of `METHOD /path/{param}` (tests compare its schemas with the document). */
export function declarationOf(method: string, path: string): AnyRoute | undefined {
  return declared.get(keyOf(method, path));
}

/** `/v1/events/{source}/{id}` → `/v1/events/:source/:id`. */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

/** `/v1/events/:source/:id` → `/v1/events/{source}/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Mounts a declared route on `router`: scope check, JSON body, validation of path, query and
 * body with the declared schemas, then `handler` with the parsed values.
 */
export function mount<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends RequestBodyDeclaration | undefined,
>(
  router: Router,
  route: RouteDeclaration<P, Q, B>,
  handler: (req: Request, res: Response, input: RouteInput<P, Q, B>) => unknown,
  /** Middleware before validation (the Slack route reads its raw body to check the signature). */
  before: RequestHandler[] = [],
): void {
  const chain: RequestHandler[] = [];
  if (typeof route.auth === 'object') chain.push(requireScope(route.auth.scope));
  const body = route.body;
  const jsonRequest =
    body !== undefined &&
    !body.raw &&
    (body.mediaType ?? 'application/json') === 'application/json';
  if (jsonRequest) chain.push(jsonBody());
  chain.push(...before);
  chain.push(async (req, res) => {
    let params: unknown = undefined;
    if (route.params) {
      const parsed = route.params.safeParse(req.params);
      if (!parsed.success)
        throw (
          route.invalidParams?.(req.params as Record<string, string>) ??
          new ValidationProblem(route.paramsName ?? 'path', fieldProblems(parsed.error))
        );
      params = parsed.data;
    }
    let query: unknown = undefined;
    if (route.query) {
      const parsed = route.query.safeParse(req.query);
      if (!parsed.success) throw new ValidationProblem('query', fieldProblems(parsed.error));
      query = parsed.data;
    }
    let parsedBody: unknown = undefined;
    if (jsonRequest && body) {
      const parsed = body.schema.safeParse(req.body);
      if (!parsed.success) throw new ValidationProblem(body.name, fieldProblems(parsed.error));
      parsedBody = parsed.data;
    }
    await handler(req, res, { params, query, body: parsedBody } as RouteInput<P, Q, B>);
  });
  router[route.method](expressPath(route.path), ...chain);
}

// ---------------------------------------------------------------------------------------------
// The document

/**
 * Recursive schemas, named: the generator refers to a named schema where it meets it again,
 * and unfolds an unnamed one forever. (zod's `.meta({ id })` names a copy, not the instance
 * the recursion refers to.)
 */
const RECURSIVE: Array<[z.ZodType, string]> = [[JsonValue, 'JsonValue']];
for (const [schema, refId] of RECURSIVE) zodToOpenAPIRegistry.add(schema, { _internal: { refId } });

/**
 * The generator writes a nullable reference as `oneOf: [$ref, {type: null}]`; for a schema that
 * admits null itself (JsonValue) null then matches both branches, which `oneOf` refuses. Such a
 * reference is the reference alone.
 */
function withoutNullableRefs(value: unknown, admitsNull: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutNullableRefs(v, admitsNull));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const oneOf = object.oneOf;
  if (Array.isArray(oneOf) && oneOf.length === 2 && Object.keys(object).length === 1) {
    const [ref, nul] = oneOf as Array<Record<string, unknown>>;
    if (
      typeof ref?.$ref === 'string' &&
      admitsNull.has(ref.$ref) &&
      nul?.type === 'null' &&
      Object.keys(nul).length === 1
    )
      return ref;
  }
  return Object.fromEntries(
    Object.entries(object).map(([k, v]) => [k, withoutNullableRefs(v, admitsNull)]),
  );
}

const PROBLEM_RESPONSES: Record<number, { description: string }> = {
  400: {
    description:
      'The request is not valid: `invalid-request` lists every bad field in `errors`; also `invalid-json`, `invalid-path`',
  },
  401: {
    description:
      'No token, or an unknown, revoked or expired one; on a signed route (Slack, webhooks), no valid signature',
  },
  403: {
    description:
      'The token may not do this (it lacks the scope, or is bound to another event source)',
  },
  404: { description: 'No such resource' },
  409: { description: 'The request conflicts with what is stored' },
  412: { description: 'If-Match names another version than the stored one' },
  413: { description: 'The body is over 256 KiB' },
  415: {
    description: 'The body is not UTF-8 JSON, or has a Content-Encoding other than identity',
  },
  429: {
    description:
      'Too many requests for this token, or for this event source; `Retry-After` says when the window frees',
  },
  502: { description: 'A target refused or failed' },
  503: {
    description:
      'Temporal or PostgreSQL (`dependency`) cannot be reached, so nothing was accepted; or (`timedOut`) Temporal did not answer in time, so the request may have taken effect: send the same request again after `Retry-After`',
  },
  504: { description: 'No answer in time (no worker, or a slow target)' },
};

const PROBLEM_HEADERS: Record<number, ResponseDeclaration['headers']> = {
  401: { 'WWW-Authenticate': { description: 'Bearer realm="idflow"' } },
  429: {
    'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } },
    RateLimit: { description: 'the remaining quota (IETF draft 8)' },
    'RateLimit-Policy': { description: 'the quota and its window (IETF draft 8)' },
  },
  503: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
};

/** The problem statuses a route can answer with, from its declaration. */
export function problemStatuses(route: AnyRoute): number[] {
  const statuses = new Set<number>(route.problems ?? []);
  if (route.auth !== 'public') {
    // behind the request guard (400 for a bad path or query) and the database gate (503)
    statuses.add(400);
    statuses.add(503);
  }
  if (typeof route.auth === 'object') [401, 403, 429].forEach((s) => statuses.add(s));
  if (route.auth === 'slack-signature' || route.auth === 'webhook-signature') statuses.add(401);
  if (route.params || route.query) statuses.add(400);
  if (route.body) [400, 413].forEach((s) => statuses.add(s));
  // only a JSON body is refused for its media type; another is read as it comes
  if (route.body && (route.body.mediaType ?? 'application/json') === 'application/json')
    statuses.add(415);
  return [...statuses].sort((a, b) => a - b);
}

/** Headers with their schema (a Header Object must have one): text unless said otherwise. */
function headersOf(headers: ResponseDeclaration['headers']): ResponseConfig['headers'] {
  if (!headers) return undefined;
  return Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [
      name,
      { description: h.description, schema: h.schema ?? { type: 'string' } },
    ]),
  );
}

function responseOf(response: ResponseDeclaration): ResponseConfig {
  return {
    description: response.description,
    ...(response.headers ? { headers: headersOf(response.headers) } : {}),
    ...(response.schema
      ? { content: { [response.mediaType ?? 'application/json']: { schema: response.schema } } }
      : {}),
  };
}

function routeConfig(route: AnyRoute): RouteConfig {
  const responses: RouteConfig['responses'] = {};
  for (const [status, response] of Object.entries(route.responses))
    responses[status] = responseOf(response);
  for (const status of problemStatuses(route)) {
    const problem = PROBLEM_RESPONSES[status];
    if (!problem) throw new Error(`no problem response for status ${status}`);
    const headers = PROBLEM_HEADERS[status];
    // Inline, not a response component: the generator emits a zod schema only where a route
    // uses it, and `Problem` (its `id`) becomes the one component they all refer to.
    responses[String(status)] ??= {
      description: problem.description,
      ...(headers ? { headers: headersOf(headers) } : {}),
      content: route.errors
        ? { [route.errors.mediaType]: { schema: route.errors.schema } }
        : { 'application/problem+json': { schema: ProblemDocument } },
    };
  }
  const body = route.body;
  const scope = typeof route.auth === 'object' ? route.auth.scope : undefined;
  return {
    method: route.method,
    path: route.path,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description || scope
      ? {
          description: [
            route.description,
            scope ? `Needs the \`${scope}\` scope (or \`admin\`).` : '',
          ]
            .filter(Boolean)
            .join('\n\n'),
        }
      : {}),
    operationId: `${route.method}${route.path
      .replace(/\{([^}]+)\}/g, 'By-$1')
      .split(/[^A-Za-z0-9]+/)
      .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : ''))
      .join('')}`,
    security:
      route.auth === 'public'
        ? []
        : route.auth === 'slack-signature'
          ? [{ slackSignature: [] }]
          : route.auth === 'webhook-signature'
            ? [{ standardWebhooks: [] }]
            : [{ bearer: [] }],
    ...(scope ? { 'x-idflow-scope': scope } : {}),
    request: {
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(route.headers ? { headers: route.headers } : {}),
      ...(body
        ? {
            body: {
              required: true,
              content: {
                [body.mediaType ?? 'application/json']: {
                  schema: body.schema,
                  ...(body.encoding ? { encoding: body.encoding } : {}),
                },
              },
            },
          }
        : {}),
    },
    responses,
  };
}

/** The OpenAPI 3.1 document of every declared route. */
export function openApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An idflow API token (`idflow tokens create --name … --scopes …`); each route names the scope it needs',
  });
  registry.registerComponent('securitySchemes', 'slackSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Slack-Signature',
    description:
      "Slack's request signature: `v0=` and the hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<body>` with the app's signing secret; the timestamp must be within 5 minutes",
  });
  registry.registerComponent('securitySchemes', 'standardWebhooks', {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description:
      "Standard Webhooks (https://www.standardwebhooks.com): `v1,` and the base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under one of the source's secrets (`whsec_…`), space-separated when several; `webhook-timestamp` (unix seconds) within the source's tolerance (default 5 minutes). See docs/webhooks.md",
  });
  const routes = [...declared.values()].sort((a, b) =>
    keyOf(a.method, a.path) < keyOf(b.method, b.path) ? -1 : 1,
  );
  for (const route of routes) registry.registerPath(routeConfig(route));
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'idflow gateway',
      version: '1',
      description:
        'Identity lifecycle events in, approvals and decisions, persons, reviews. Errors are RFC 9457 problem details (`application/problem+json`).',
    },
    tags: [...new Set(routes.map((r) => r.tag))].sort().map((name) => ({ name })),
  });
  const admitsNull = new Set(
    RECURSIVE.filter(([schema]) => schema.safeParse(null).success).map(
      ([, refId]) => `#/components/schemas/${refId}`,
    ),
  );
  return withoutNullableRefs(document, admitsNull) as typeof document;
}
