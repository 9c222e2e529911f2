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

/** Why an account is held (`dormant`): short free text, no personal data. */
const HoldReason = z
  .string()
  .min(1)
  .max(200)
  .describe('why the account is held (dormant): short, no personal data');

/** What an identity provider reports of an account: a sign-in, or a password change. */
export const ACCOUNT_ACTIVITIES = ['login', 'password-changed'] as const;

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
      effect: 'disable',
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
      effect: 'disable',
      description:
        'Revokes an explicit grant; reconcile then removes what it gave. Already revoked is success (changed: false).',
      args: z.strictObject({ personId: PersonId, grantId: z.uuid() }),
      result: z.object({ grantId: z.string(), changed: z.boolean() }),
    },
    holdAccount: {
      effect: 'disable',
      description:
        "Places a hold on the person's account on a connector: reconcile disables it and never enables or creates it while a hold is in place, whatever the person's roles say; its groups are kept in line with the roles, so it comes back whole when released. idflow's record of the account says disabled from then on (a scan of enabled accounts no longer finds it). A hold in place for the same account and reason is success (changed: false).",
      args: z.strictObject({
        personId: PersonId,
        connector: z.string().min(1).max(63).describe('the connector the account is on'),
        reason: HoldReason,
      }),
      result: z.object({
        holdId: z.string(),
        changed: z.boolean().describe('false: a hold for this account and reason was in place'),
      }),
    },
    releaseAccount: {
      description:
        "Lifts the holds in place on the person's account on a connector (all of them, or those of one reason); they stay on record with who lifted them. The next reconcile of the person enables the account if nothing else holds it and their roles require it. released: 0 when none was in place.",
      args: z.strictObject({
        personId: PersonId,
        connector: z.string().min(1).max(63).describe('the connector the account is on'),
        reason: HoldReason.optional().describe('only the holds of this reason; default all'),
      }),
      result: z.object({ released: z.int().min(0) }),
    },
    recordAccountActivity: {
      description:
        "Records that the person's account on a connector signed in, or changed its password, at a time an identity provider reported: on the person's own account record only, and only forward (an older or duplicate report changes nothing). recorded: false when idflow has no record of that account of the person.",
      args: z.strictObject({
        personId: PersonId,
        connector: z.string().min(1).max(63).describe('the connector the account is on'),
        account: z
          .string()
          .min(1)
          .max(256)
          .describe("the account's name on that connector (uid, userName)"),
        activity: z.enum(ACCOUNT_ACTIVITIES).describe('what happened: login or password-changed'),
        at: Timestamp.describe('when it happened'),
      }),
      result: z.object({
        recorded: z.boolean().describe('false: idflow has no record of this account of the person'),
        changed: z.boolean().describe('false: the record already held this time or a later one'),
      }),
    },
    getPerson: {
      readOnly: true,
      description: 'Reads a person; `found` is false when there is none with that id.',
      args: z.strictObject({ personId: PersonId }),
      result: z.object({ found: z.boolean(), person: Person.optional() }),
    },
  },
});
