/**
 * Review items of correlation: the ids they and the persons they create are known by, and the
 * body of a resolution (`POST /v1/review/{id}`), parsed with every problem's field path.
 */
import { createHash } from 'node:crypto';
import { isPersonId, PERSON_ID_MESSAGE } from './person';

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

/** Parses a resolution body: exactly one of `personId` (a person id) and `create: true`. */
export function parseResolution(body: unknown): ParsedResolution {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return {
      ok: false,
      problems: [{ path: '', message: 'must be an object: {"personId": "…"} or {"create": true}' }],
    };
  }
  const problems: Array<{ path: string; message: string }> = [];
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'personId' && key !== 'create')
      problems.push({
        path: `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        message: 'unknown field',
      });
  }
  const hasPerson = 'personId' in fields;
  const hasCreate = 'create' in fields;
  if (hasPerson && !isPersonId(fields.personId))
    problems.push({ path: '/personId', message: PERSON_ID_MESSAGE });
  if (hasCreate && fields.create !== true)
    problems.push({ path: '/create', message: 'must be true (a new person), or left out' });
  if (hasPerson && hasCreate)
    problems.push({ path: '/create', message: 'give either personId or create, not both' });
  if (!hasPerson && !hasCreate)
    problems.push({ path: '/personId', message: 'is required (or create: true for a new person)' });
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    value: hasPerson ? { personId: fields.personId as string } : { create: true },
  };
}
