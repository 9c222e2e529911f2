/**
 * SCIM's error format (RFC 7644 §3.12) for every answer under `/scim/v2`: SCIM clients (Entra
 * ID, Okta) read `status`, `scimType` and `detail`, not problem+json. Services throw
 * `ScimProblem`, an HttpProblem that carries its `scimType`, so the gateway's one error
 * middleware answers it; a problem raised before a SCIM route (authentication, rate limits, the
 * body parser, the database gate) is rewritten into the same format by `scimErrorBody`.
 */
import * as z from 'zod';
import { HttpProblem } from '../gateway/problems';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** The media type of SCIM bodies; `application/json` is accepted too. */
export const SCIM_MEDIA_TYPE = 'application/scim+json';
/** Where idflow's SCIM service is mounted. */
export const SCIM_BASE = '/scim/v2';

/** The `scimType` values RFC 7644 §3.12 defines. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** An error a SCIM route answers with; the detail names attributes and rules, never values. */
export class ScimProblem extends HttpProblem {
  constructor(
    status: number,
    readonly scimType: ScimType | undefined,
    detail: string,
    headers: Record<string, string> = {},
  ) {
    super(status, `scim-${scimType ?? status}`, 'SCIM error', detail, {}, headers);
  }
}

/** 400 with a scimType: the request cannot be applied as sent. */
export function badRequest(scimType: ScimType, detail: string): ScimProblem {
  return new ScimProblem(400, scimType, detail);
}

/** Whether `path` is under the SCIM base (Express matches routes without case). */
export function isScimPath(path: string): boolean {
  const lower = path.toLowerCase();
  return lower === SCIM_BASE || lower.startsWith(`${SCIM_BASE}/`);
}

/** The scimType a generic gateway problem stands for, by its slug. */
const SCIM_TYPE_OF_SLUG: Record<string, ScimType> = {
  'invalid-json': 'invalidSyntax',
  'invalid-request': 'invalidValue',
  'invalid-value': 'invalidValue',
  conflict: 'uniqueness',
};

/** The SCIM error document of any problem the gateway answers with. */
export function scimErrorBody(problem: HttpProblem): Record<string, unknown> {
  const scimType =
    problem instanceof ScimProblem
      ? problem.scimType
      : problem.status === 400 || problem.status === 409
        ? SCIM_TYPE_OF_SLUG[problem.slug]
        : undefined;
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(problem.status),
    ...(scimType ? { scimType } : {}),
    detail: problem.detail ?? problem.title,
  };
}

/** The SCIM error document, as the OpenAPI document describes SCIM routes' errors. */
export const ScimErrorDocument = z
  .looseObject({
    schemas: z.array(z.literal(SCIM_ERROR_SCHEMA)),
    status: z.string().meta({ description: 'the HTTP status, as text', example: '400' }),
    scimType: z
      .enum([
        'invalidFilter',
        'tooMany',
        'uniqueness',
        'mutability',
        'invalidSyntax',
        'invalidPath',
        'noTarget',
        'invalidValue',
        'invalidVers',
        'sensitive',
      ])
      .optional()
      .meta({ description: 'what kind of bad request (RFC 7644 §3.12), on 400 and 409' }),
    detail: z.string().meta({ description: 'what is wrong and where, without the values sent' }),
  })
  .meta({ id: 'ScimError' });
