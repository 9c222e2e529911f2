/**
 * idflow's SCIM 2.0 service (RFC 7644) for HR systems and identity providers: `/scim/v2/Users`
 * with a token of scope `scim:write` bound to a source (the discovery documents, which need no
 * token, are in scim-discovery.ts). Bodies are `application/scim+json` (or `application/json`), read by the gateway's JSON
 * reader; every error here is a SCIM error document (the error middleware writes them for
 * paths under /scim/v2). Handlers only parse and answer: src/scim holds the protocol.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import * as z from 'zod';
import { listResponse } from '../../scim/discovery';
import { SCIM_BASE, SCIM_MEDIA_TYPE, ScimErrorDocument } from '../../scim/errors';
import { applyProjection, parseProjection, type Projection } from '../../scim/projection';
import type { ScimUserRow } from '../../scim/repository';
import { etagOf, userResource, type ScimCaller, type ScimService } from '../../scim/service';
import { principalOf } from '../middleware/auth';
import { jsonBody } from '../middleware/json';
import { declareRoute, mount } from '../openapi';

const TAG = 'scim';
/** The error format of every SCIM route: SCIM error documents. */
export const errors = { mediaType: SCIM_MEDIA_TYPE, schema: ScimErrorDocument };
const auth = { scope: 'scim:write' } as const;

const Meta = z.looseObject({
  resourceType: z.string(),
  created: z.string(),
  lastModified: z.string(),
  location: z.string(),
  version: z.string().meta({ description: 'the ETag, W/"<version>"' }),
});
const ScimUser = z
  .looseObject({ schemas: z.array(z.string()), id: z.string(), userName: z.string(), meta: Meta })
  .meta({
    id: 'ScimUser',
    description: 'A SCIM User (RFC 7643 §4.1) with the enterprise extension',
  });
const ScimUserInput = z
  .looseObject({ schemas: z.array(z.string()), userName: z.string() })
  .meta({ id: 'ScimUserInput', description: 'A SCIM User as a client writes it' });
const PatchOp = z
  .looseObject({
    schemas: z.array(z.string()),
    Operations: z.array(
      z.looseObject({
        op: z.string().meta({ description: 'add, remove or replace (any case)' }),
        path: z.string().optional(),
        value: z.unknown().optional(),
      }),
    ),
  })
  .meta({ id: 'ScimPatchOp', description: 'A SCIM PatchOp message (RFC 7644 §3.5.2)' });
const ListOf = (item: z.ZodType) =>
  z.looseObject({
    schemas: z.array(z.string()),
    totalResults: z.int(),
    startIndex: z.int(),
    itemsPerPage: z.int(),
    Resources: z.array(item),
  });

export const Id = z.object({ id: z.string() });
const Projection = {
  attributes: z
    .string()
    .optional()
    .meta({ description: 'only these attributes (comma-separated)' }),
  excludedAttributes: z.string().optional().meta({ description: 'all but these attributes' }),
};
const ETag = { ETag: { description: 'W/"<version>": send it back in If-Match' } };
const IfMatch = z.object({
  'if-match': z
    .string()
    .optional()
    .meta({ description: 'W/"<version>": 412 if the user moved on' }),
});
const scimBody = <S extends z.ZodType>(schema: S, name: string) => ({
  schema,
  name,
  mediaType: SCIM_MEDIA_TYPE,
});
const user = (description: string) => ({
  description,
  schema: ScimUser,
  mediaType: SCIM_MEDIA_TYPE,
  headers: ETag,
});

const createUser = declareRoute({
  method: 'post',
  path: `${SCIM_BASE}/Users`,
  tag: TAG,
  summary: 'Provision a user: a joiner (an active user) of the token’s source',
  description:
    'Each write becomes an idflow event of the token’s source, through the path of POST /v1/events; the Source’s scim mapping says which.',
  auth,
  errors,
  query: z.looseObject(Projection),
  body: scimBody(ScimUserInput, 'SCIM user'),
  responses: { 201: user('Created; the joiner event was accepted') },
  problems: [409, 415],
});

const listUsers = declareRoute({
  method: 'get',
  path: `${SCIM_BASE}/Users`,
  tag: TAG,
  summary: 'The source’s users, filtered and paged',
  description:
    'filter: eq on userName, externalId, id, emails.value (also emails[type eq "work"].value) and active, joined by and/or.',
  auth,
  errors,
  query: z.looseObject({
    filter: z.string().optional(),
    startIndex: z.string().optional().meta({ description: '1-based' }),
    count: z.string().optional().meta({ description: 'at most 200' }),
    ...Projection,
  }),
  responses: {
    200: { description: 'A ListResponse', schema: ListOf(ScimUser), mediaType: SCIM_MEDIA_TYPE },
  },
});

const showUser = declareRoute({
  method: 'get',
  path: `${SCIM_BASE}/Users/{id}`,
  tag: TAG,
  summary: 'One user of the token’s source',
  auth,
  errors,
  params: Id,
  query: z.looseObject(Projection),
  headers: z.object({ 'if-none-match': z.string().optional() }),
  responses: {
    200: user('The user'),
    304: { description: 'If-None-Match names the current version', headers: ETag },
  },
  problems: [404],
});

const replaceUser = declareRoute({
  method: 'put',
  path: `${SCIM_BASE}/Users/{id}`,
  tag: TAG,
  summary: 'Replace a user: a mover, leaver or reactivation as the change says',
  auth,
  errors,
  params: Id,
  query: z.looseObject(Projection),
  headers: IfMatch,
  body: scimBody(ScimUserInput, 'SCIM user'),
  responses: { 200: user('The user as stored') },
  problems: [404, 409, 412, 415],
});

const patchUser = declareRoute({
  method: 'patch',
  path: `${SCIM_BASE}/Users/{id}`,
  tag: TAG,
  summary: 'Change a user with PATCH operations (add, remove, replace)',
  auth,
  errors,
  params: Id,
  query: z.looseObject(Projection),
  headers: IfMatch,
  body: scimBody(PatchOp, 'SCIM PatchOp'),
  responses: { 200: user('The user as stored') },
  problems: [404, 409, 412, 415],
});

const deleteUser = declareRoute({
  method: 'delete',
  path: `${SCIM_BASE}/Users/{id}`,
  tag: TAG,
  summary: 'Deprovision a user: a leaver if the user was active',
  auth,
  errors,
  params: Id,
  headers: IfMatch,
  responses: { 204: { description: 'Deleted' } },
  problems: [404, 412],
});

const CALLER = Symbol('idflow.scimCaller');

function callerOf(res: Response): ScimCaller {
  return (res.locals as Record<symbol, ScimCaller>)[CALLER] as ScimCaller;
}

/** A URL base for `meta.location`: the request's host when it is a plain host, else none. */
function baseOf(req: Request): string {
  const host = req.get('host') ?? '';
  return /^[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](?::\d{1,5})?$/.test(host)
    ? `${req.protocol}://${host}`
    : '';
}

/** Answers `body` as application/scim+json. */
export function sendScim(res: Response, status: number, body: unknown): void {
  res.status(status).type(SCIM_MEDIA_TYPE).send(JSON.stringify(body));
}

function sendUser(
  req: Request,
  res: Response,
  status: number,
  row: ScimUserRow,
  projection: Projection,
): void {
  const location = `${baseOf(req)}${SCIM_BASE}/Users/${row.id}`;
  res.setHeader('ETag', etagOf(row.version));
  if (status === 201) res.location(location);
  sendScim(res, status, applyProjection(userResource(row, location), projection));
}

/** `/scim/v2/Users`: a token of scope scim:write bound to a source with a scim mapping. */
export function scimRoutes(
  scim: ScimService,
  options: { checkSourceRate?: (source: string) => Promise<void> } = {},
): Router {
  const router = Router();
  // the token's source before its body: a token that may not write users is told so first
  const caller: RequestHandler = async (req, res, next) => {
    (res.locals as Record<symbol, ScimCaller>)[CALLER] = await scim.caller(
      principalOf(req),
      options.checkSourceRate,
    );
    next();
  };
  const ifMatch = (req: Request) => req.get('if-match');

  mount(
    router,
    createUser,
    async (req, res, { query }) => {
      // the projection is checked before the write: a bad one writes nothing
      const projection = parseProjection(query, callerOf(res).schemas);
      sendUser(req, res, 201, await scim.create(callerOf(res), req.body), projection);
    },
    [caller, jsonBody()],
  );

  mount(
    router,
    listUsers,
    async (req, res, { query }) => {
      const projection = parseProjection(query, callerOf(res).schemas);
      const page = await scim.list(callerOf(res), query);
      const base = baseOf(req);
      const resources = page.rows.map((row) =>
        applyProjection(userResource(row, `${base}${SCIM_BASE}/Users/${row.id}`), projection),
      );
      sendScim(res, 200, listResponse(resources, page.total, page.startIndex));
    },
    [caller],
  );

  mount(
    router,
    showUser,
    async (req, res, { params, query }) => {
      const projection = parseProjection(query, callerOf(res).schemas);
      const row = await scim.get(callerOf(res), params.id);
      const none = req.get('if-none-match');
      if (none !== undefined) {
        const tags = none.split(',').map((t) => t.trim().replace(/^W\//, ''));
        if (tags.includes('*') || tags.includes(`"${row.version}"`)) {
          res.status(304).setHeader('ETag', etagOf(row.version)).end();
          return;
        }
      }
      sendUser(req, res, 200, row, projection);
    },
    [caller],
  );

  mount(
    router,
    replaceUser,
    async (req, res, { params, query }) => {
      const projection = parseProjection(query, callerOf(res).schemas);
      const row = await scim.replace(callerOf(res), params.id, req.body, ifMatch(req));
      sendUser(req, res, 200, row, projection);
    },
    [caller, jsonBody()],
  );

  mount(
    router,
    patchUser,
    async (req, res, { params, query }) => {
      const projection = parseProjection(query, callerOf(res).schemas);
      const row = await scim.patch(callerOf(res), params.id, req.body, ifMatch(req));
      sendUser(req, res, 200, row, projection);
    },
    [caller, jsonBody()],
  );

  mount(
    router,
    deleteUser,
    async (req, res, { params }) => {
      await scim.remove(callerOf(res), params.id, ifMatch(req));
      res.status(204).end();
    },
    [caller],
  );

  return router;
}
