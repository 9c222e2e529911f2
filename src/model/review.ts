/**
 * Review items of correlation: the ids they and the persons they create are known by, and the
 * body of a resolution (`POST /v1/review/{id}`), parsed with every problem's field path.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { toPointer } from '../dsl/diagnostics';
import { PersonId } from './person';

function hash(text: string, length: number): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/** The review of one step run: the same id on every retry and replay of the step. */
export function reviewIdOf(workflowId: string, stepId: string): string {
  return `rv-${hash(`${workflowId}\n${stepId}`, 24)}`;
}

/** What review ids look like: anything else is answered 404 without a lookup. */
export const REVIEW_ID_PATTERN = /^rv-[0-9a-f]{24}$/;

/**
 * The person a correlation creates for a record: derived from the record's identity in its
 * source, so a retried or replayed step, and a resolution asking for a new person, make one.
 */
export function createdPersonIdOf(source: string, sourceId: string): string {
  return `p-${hash(`${source}\n${sourceId}`, 20)}`;
}

/** An operator's choice: one of the candidates, or a new person. */
export type ResolutionBody = { personId: string } | { create: true };

export type ParsedResolution =
  | { ok: true; value: ResolutionBody }
  | { ok: false; problems: Array<{ path: string; message: string }> };

/**
 * The body of a resolution: exactly one of `personId` (a person id) and `create: true`. The
 * gateway validates `POST /v1/review/{id}` with it, and the OpenAPI document describes it.
 */
export const Resolution = z
  .strictObject(
    {
      personId: PersonId.optional().meta({ description: 'the candidate the record belongs to' }),
      create: z
        .literal(true, 'must be true (a new person), or left out')
        .optional()
        .meta({ description: 'the record is a new person: create one' }),
    },
    { error: 'must be an object: {"personId": "…"} or {"create": true}' },
  )
  .superRefine((body, ctx) => {
    if (body.personId !== undefined && body.create !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['create'],
        message: 'give either personId or create, not both',
      });
    if (body.personId === undefined && body.create === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['personId'],
        message: 'is required (or create: true for a new person)',
      });
  })
  .meta({ description: 'Exactly one of personId and create', minProperties: 1, maxProperties: 1 });

/** Parses a resolution body, every problem with its field's JSON pointer. */
export function parseResolution(body: unknown): ParsedResolution {
  const parsed = Resolution.safeParse(body);
  if (parsed.success)
    return {
      ok: true,
      value:
        parsed.data.personId !== undefined ? { personId: parsed.data.personId } : { create: true },
    };
  return {
    ok: false,
    problems: parsed.error.issues.flatMap((issue) => {
      const path = issue.path as Array<string | number>;
      return issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: toPointer([...path, key]), message: 'unknown field' }))
        : [{ path: toPointer(path), message: issue.message }];
    }),
  };
}
