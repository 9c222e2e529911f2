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

/** The workflow id of an event's dispatch workflow. */
export function dispatchWorkflowId(source: string, id: string): string {
  return `event/${source}/${id}`;
}

/** The workflow id of a flow run started for an event. */
export function runWorkflowId(flow: string, subjectId: string, eventId: string): string {
  return `flow/${flow}/${subjectId}/${eventId}`;
}

/**
 * The workflow id of a person's timeline: the one workflow that applies the person's events in
 * the order idflow accepted them. One per person and idflow deployment: the task queue names
 * the deployment, so two deployments on one Temporal namespace never share a timeline.
 */
export function timelineWorkflowId(taskQueue: string, personId: string): string {
  return `person/${taskQueue}/${personId}`;
}

/** Whether `workflowId` names a flow run (only flow runs have approval tasks). */
export function isRunWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith('flow/');
}
