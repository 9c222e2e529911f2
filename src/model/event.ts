/**
 * Identity events as upstream systems send them to `POST /v1/events`.
 */
import * as z from 'zod';
import { EVENT_TYPE_PATTERN } from '../dsl/schema';
import { PersonId, personFields, Timestamp } from './person';

const Key = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const IdentityEvent = z.strictObject({
  /** The sending system, e.g. `workday`; with `id` it identifies the event. */
  source: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]{0,62}$/,
      'must be lowercase letters, digits, ., _ or -, like workday',
    ),
  /** The sender's id of this event; the same (source, id) is the same event. */
  id: Key,
  type: z.string().regex(EVENT_TYPE_PATTERN, 'must be a dotted event type, like person.joiner'),
  subject: z.strictObject({ id: PersonId, ...personFields }),
  occurredAt: Timestamp,
  effectiveAt: Timestamp.optional(),
  attributes: z.record(z.string(), z.json()).optional(),
  previous: z.strictObject(personFields).optional(),
});
export type IdentityEvent = z.infer<typeof IdentityEvent>;

/** The workflow id of an event's dispatch workflow. */
export function dispatchWorkflowId(source: string, id: string): string {
  return `event/${source}/${id}`;
}

/** The workflow id of a flow run started for an event. */
export function runWorkflowId(flow: string, subjectId: string, eventId: string): string {
  return `flow/${flow}/${subjectId}/${eventId}`;
}
