/**
 * `GET /v1/runs/{workflowId}/graph`: the flow a run was started with, drawn with the path it
 * took (completed steps green, failed or parked red, branches not taken grey, the current step
 * marked), as SVG (the default) or Mermaid source. The workflow id is one path segment, its
 * slashes encoded, as for `GET /v1/runs/{workflowId}`.
 */
import { Router } from 'express';
import * as z from 'zod';
import { GRAPH_FORMATS } from '../../graph';
import { boundPerson } from '../middleware/person-binding';
import { declareRoute, mount } from '../openapi';
import type { RunGraphService } from '../services/graph';
import { WorkflowId } from './runs';

const GraphQuery = z.strictObject({
  format: z
    .enum(GRAPH_FORMATS, { error: 'must be svg or mermaid' })
    .default('svg')
    .meta({ description: '`svg` (image/svg+xml) or `mermaid` (text/plain, a `flowchart TD`)' }),
});

const runGraphRoute = declareRoute({
  method: 'get',
  path: '/v1/runs/{workflowId}/graph',
  tag: 'runs',
  summary: 'The run’s flow diagram, with the path the run took highlighted',
  description:
    'Drawn from the definition version the run was started with. `format=svg` answers image/svg+xml; `format=mermaid` answers text/plain Mermaid source. A token bound to a person draws that person’s runs only (another person’s run is a 404).',
  auth: { scope: 'runs:read' },
  params: z.object({ workflowId: WorkflowId }),
  paramsName: 'workflow id',
  query: GraphQuery,
  responses: {
    200: {
      description: 'The diagram: SVG, or Mermaid source as text/plain with format=mermaid',
      schema: z.string(),
      mediaType: 'image/svg+xml',
    },
  },
  problems: [404, 504],
});

export function graphRoutes(graphs: RunGraphService): Router {
  const router = Router();
  mount(router, runGraphRoute, async (req, res, { params, query }) => {
    const text = await graphs.draw(params.workflowId, query.format, boundPerson(req));
    res
      .type(query.format === 'svg' ? 'image/svg+xml; charset=utf-8' : 'text/plain; charset=utf-8')
      .set('Cache-Control', 'no-store')
      .send(text);
  });
  return router;
}
