/**
 * `idstore`: the identity store in idflow's own PostgreSQL — the persons a run creates, updates
 * and retires. Declarations only; the activities live in activities/connectors/idstore.ts.
 */
import * as z from 'zod';
import {
  Attributes,
  Person,
  PERSON_STATUSES,
  PersonId,
  personFields,
  Timestamp,
} from '../model/person';
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
      description:
        "Sets a person's status (pending, active, suspended, termination-pending, disabled, terminated).",
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
    grantAccess: {
      description:
        'Grants the person a role or one entitlement explicitly, until a time or until revoked; reconcile carries it out. A grant a separation-of-duties rule blocks is refused (SodConflict); one a rule wants approved waits on that approval in reconcile.',
      args: z
        .strictObject({
          personId: PersonId,
          role: z.string().min(1).max(63).optional(),
          entitlement: z
            .strictObject({
              connector: z.string().min(1).max(63),
              kind: z.string().min(1).max(63).optional().describe('default group'),
              value: z.string().min(1).max(1024),
            })
            .optional(),
          validUntil: Timestamp.optional(),
          reason: z.string().max(1024).optional(),
        })
        .refine((a) => (a.role === undefined) !== (a.entitlement === undefined), {
          message: 'needs exactly one of role and entitlement',
        }),
      result: z.object({ grantId: z.string(), personId: PersonId }),
    },
    revokeAccess: {
      description:
        'Revokes an explicit grant; reconcile then removes what it gave. Already revoked is success (changed: false).',
      args: z.strictObject({ personId: PersonId, grantId: z.uuid() }),
      result: z.object({ grantId: z.string(), changed: z.boolean() }),
    },
    getPerson: {
      description: 'Reads a person; `found` is false when there is none with that id.',
      args: z.strictObject({ personId: PersonId }),
      result: z.object({ found: z.boolean(), person: Person.optional() }),
    },
  },
});
