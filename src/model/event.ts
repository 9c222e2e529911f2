/**
 * Identity events as upstream systems send them to `POST /v1/events`.
 */
import * as z from 'zod';
import { EVENT_TYPE_PATTERN } from '../dsl/schema';
import { PersonId, personFields, Timestamp } from './person';

/** The sender's id of an event; the same (source, id) is the same event. */
export const EventKey = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** The sending system, e.g. `workday`; with the event's id it identifies the event. */
export const EventSource = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    'must be lowercase letters, digits, ., _ or -, like workday',
  );

/** Any JSON value (recursive: the OpenAPI document names it to refer to it). */
export const JsonValue = z.json();

export const IdentityEvent = z.strictObject({
  source: EventSource,
  id: EventKey,
  type: z.string().regex(EVENT_TYPE_PATTERN, 'must be a dotted event type, like person.joiner'),
  subject: z.strictObject({ id: PersonId, ...personFields }),
  occurredAt: Timestamp,
  effectiveAt: Timestamp.optional(),
  attributes: z.record(z.string(), JsonValue).optional(),
  previous: z.strictObject(personFields).optional(),
});
export type IdentityEvent = z.infer<typeof IdentityEvent>;

export {
  dispatchWorkflowId,
  isRunWorkflowId,
  runWorkflowId,
  timelineWorkflowId,
} from './workflow-ids';
