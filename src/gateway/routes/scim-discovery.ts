/**
 * What idflow's SCIM service supports (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes`
 * and `Schemas`, served without a token and without the database. RFC 7644 leaves their
 * protection to the service; they describe the service and hold no data.
 */
import { Router, type Request, type Response } from 'express';
import * as z from 'zod';
import {
  byId,
  listResponse,
  resourceTypes,
  schemaDocuments,
  serviceProviderConfig,
} from '../../scim/discovery';
import { SCIM_BASE, SCIM_MEDIA_TYPE, ScimProblem } from '../../scim/errors';
import { declareRoute, mount } from '../openapi';
import { Id, errors, sendScim } from './scim';

const Document = z.looseObject({ schemas: z.array(z.string()) });
const discovery = (path: string, summary: string, params?: true) =>
  declareRoute({
    method: 'get',
    path: `${SCIM_BASE}/${path}`,
    tag: 'scim',
    summary,
    auth: 'public',
    errors,
    ...(params ? { params: Id } : {}),
    responses: { 200: { description: summary, schema: Document, mediaType: SCIM_MEDIA_TYPE } },
    ...(params ? { problems: [404] } : {}),
  });

const spc = discovery('ServiceProviderConfig', 'What idflow’s SCIM service supports');
const types = discovery('ResourceTypes', 'The resource types: User');
const type = discovery('ResourceTypes/{id}', 'One resource type', true);
const schemas = discovery('Schemas', 'The User schema and the enterprise extension');
const schema = discovery('Schemas/{id}', 'One schema, by its URN', true);

/** The discovery documents: no token, no database. */
export function scimDiscoveryRoutes(): Router {
  const router = Router();
  const one =
    (documents: () => Record<string, unknown>[], what: string) =>
    (_req: Request, res: Response, { params }: { params: unknown }) => {
      const found = byId(documents(), (params as { id: string }).id);
      if (!found) throw new ScimProblem(404, undefined, `no ${what} with that id`);
      sendScim(res, 200, found);
    };
  mount(router, spc, (_req, res) => sendScim(res, 200, serviceProviderConfig()));
  mount(router, types, (_req, res) => {
    const all = resourceTypes();
    sendScim(res, 200, listResponse(all, all.length, 1));
  });
  mount(router, type, one(resourceTypes, 'resource type'));
  mount(router, schemas, (_req, res) => {
    const all = schemaDocuments();
    sendScim(res, 200, listResponse(all, all.length, 1));
  });
  mount(router, schema, one(schemaDocuments, 'schema'));
  return router;
}
