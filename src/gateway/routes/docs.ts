/**
 * `GET /openapi.json` (the OpenAPI 3.1 document of every route, generated from the route
 * declarations) and `GET /docs` (Swagger UI rendering it). Neither needs a token: the document
 * holds no data, only what the API accepts.
 */
import { Router } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import * as z from 'zod';
import { declareRoute, mount, openApiDocument } from '../openapi';

export const DOCS_PATHS = ['/openapi.json', '/docs'];

const spec = declareRoute({
  method: 'get',
  path: '/openapi.json',
  tag: 'meta',
  summary: 'This document: the OpenAPI 3.1 description of every route',
  auth: 'public',
  responses: {
    200: { description: 'The OpenAPI document', schema: z.looseObject({ openapi: z.string() }) },
  },
});

const docs = declareRoute({
  method: 'get',
  path: '/docs',
  tag: 'meta',
  summary: 'The API reference in a browser (Swagger UI)',
  auth: 'public',
  responses: {
    200: { description: 'The Swagger UI page', schema: z.string(), mediaType: 'text/html' },
    301: { description: '`/docs` → `/docs/`: the page loads its assets relative to itself' },
  },
});

/**
 * The docs' own Content-Security-Policy: Swagger UI's page carries inline styles and images as
 * data: URLs (allowed), its scripts come from the gateway only, and without helmet's
 * `upgrade-insecure-requests` the page loads its assets over plain HTTP too (a gateway on a
 * developer's machine or behind a TLS-terminating proxy). Every other path keeps helmet's.
 */
const docsPolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
});

export function docsRoutes(): Router {
  const router = Router();
  let document: unknown;

  mount(router, spec, (_req, res) => {
    // every route module is loaded by the time the first request comes: build once
    document ??= openApiDocument();
    res.json(document);
  });

  // the page fetches the document from the gateway: one source, never a copy in the page
  const page = swaggerUi.setup(undefined, {
    swaggerUrl: '../openapi.json',
    customSiteTitle: 'idflow API',
  });
  const assets = swaggerUi.serveFiles(undefined, { swaggerUrl: '../openapi.json' });
  mount(router, docs, (req, res) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(301, `${req.baseUrl}/docs/`);
      return;
    }
    docsPolicy(req, res, () => page(req, res, () => undefined));
  });
  router.use('/docs', docsPolicy, ...assets);
  return router;
}
