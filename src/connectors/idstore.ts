/**
 * `idstore`: the identity store in idflow's own PostgreSQL — the persons a run creates, updates
 * and retires. Declarations only; the activities live in activities/connectors/idstore.ts.
 */
import * as z from 'zod';
import { Attributes, Person, PERSON_STATUSES, PersonId, personFields } from '../model/person';
import { defineConnectorType } from './spec';

export const idstore = defineConnectorType({
  type: 'idstore',
  description: "Persons in idflow's identity store (PostgreSQL).",
  config: z.strictObject({}),
  notifies: false,
  local: true,
  defaults: {
    timeoutMs: 10_000,
    retry: {
      maximumAttempts: 5,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 30_000,
    },
  },
  ops: {
    upsertPerson: {
      description:
        'Creates the person, or updates the given fields of an existing one. Fields left out keep their value; attributes are merged.',
      args: z.strictObject({ id: PersonId, ...personFields }),
      result: z.object({ person: Person, created: z.boolean(), changed: z.boolean() }),
    },
    setStatus: {
      description: "Sets a person's status (pending, active, suspended, disabled, terminated).",
      args: z.strictObject({
        personId: PersonId,
        status: z.enum(PERSON_STATUSES),
        reason: z.string().max(1024).optional(),
      }),
      result: z.object({
        personId: PersonId,
        status: z.enum(PERSON_STATUSES),
        previousStatus: z.enum(PERSON_STATUSES),
        changed: z.boolean(),
      }),
    },
    setAttributes: {
      description:
        "Merges attributes into a person's attributes; a null value removes that attribute.",
      args: z.strictObject({ personId: PersonId, attributes: Attributes }),
      result: z.object({ personId: PersonId, attributes: Attributes, changed: z.boolean() }),
    },
    getPerson: {
      description: 'Reads a person; `found` is false when there is none with that id.',
      args: z.strictObject({ personId: PersonId }),
      result: z.object({ found: z.boolean(), person: Person.optional() }),
    },
  },
});
