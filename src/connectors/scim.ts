/**
 * `scim`: users and group memberships in an application that speaks SCIM 2.0 (RFC 7643/7644).
 * Declarations only; the activities live in activities/connectors/scim.ts.
 */
import * as z from 'zod';
import { correlationConfig, HttpAuth, Limits, REMOTE_DEFAULTS, withOwner } from './common';
import { defineConnectorType } from './spec';

const ScimId = z.string().min(1).max(256);
const Email = z.object({
  value: z.string(),
  type: z.string().optional(),
  primary: z.boolean().optional(),
});
/** The core User attributes idflow names; others pass through (loose objects). */
const userFields = {
  active: z.boolean().optional(),
  displayName: z.string().optional(),
  name: z
    .looseObject({ givenName: z.string().optional(), familyName: z.string().optional() })
    .optional(),
  emails: z.array(Email).optional(),
};
const User = z.looseObject({
  id: z.string(),
  userName: z.string(),
  externalId: z.string().optional(),
  ...userFields,
});
const NewUser = z.looseObject({
  userName: z.string().min(1),
  externalId: z.string().min(1).optional(),
  ...userFields,
});
const PatchOp = z.strictObject({
  op: z.enum(['add', 'remove', 'replace']),
  path: z.string().min(1).optional(),
  value: z.unknown().optional(),
});

export const scim = defineConnectorType({
  type: 'scim',
  description: 'Users and groups in an application through SCIM 2.0.',
  config: z.strictObject({
    baseUrl: z.url({ error: 'must be the SCIM base URL, like https://app.example.com/scim/v2' }),
    auth: HttpAuth,
    pageSize: z.int().min(1).max(1000).optional(),
    correlation: correlationConfig(
      z
        .string()
        .regex(
          /^(urn:[A-Za-z0-9.:-]+:)?[A-Za-z][A-Za-z0-9_-]*$/,
          'must be a User attribute (externalId) or an extension attribute (urn:…:User:employeeNumber)',
        )
        .describe('where the owner is recorded: externalId, or an extension attribute by URN'),
    ).optional(),
    ...Limits,
  }),
  notifies: false,
  local: false,
  defaults: REMOTE_DEFAULTS,
  access: {
    accounts: true,
    entitlements: {
      group: {
        key: 'groups',
        description: "Group memberships, by the group's displayName",
        check: (value) =>
          value.trim() === value && value.length <= 256
            ? undefined
            : `'${value}' is not a group displayName: no surrounding spaces, at most 256 characters`,
        // SCIM compares displayName without case (RFC 7643 caseExact false): so does idflow
        canonical: (value) => value.toLowerCase(),
      },
    },
  },
  ops: {
    createUser: {
      description:
        "Creates the user, recording its owner; when one with the same userName exists and is the same person's, replaces it with the given fields instead (created: false); someone else's is a TargetConflict.",
      ...withOwner({ user: NewUser }),
      result: z.object({ user: User, created: z.boolean() }),
    },
    getUser: {
      readOnly: true,
      description: 'Reads a user by SCIM id; found: false when absent.',
      args: z.strictObject({ id: ScimId }),
      result: z.object({ found: z.boolean(), user: User.optional() }),
    },
    findUser: {
      readOnly: true,
      description: 'Finds a user by userName or externalId (a SCIM filter).',
      args: z
        .strictObject({
          userName: z.string().min(1).optional(),
          externalId: z.string().min(1).optional(),
        })
        .refine((a) => (a.userName === undefined) !== (a.externalId === undefined), {
          message: 'needs exactly one of userName and externalId',
        }),
      result: z.object({ found: z.boolean(), user: User.optional() }),
    },
    listUsers: {
      readOnly: true,
      description: 'Every user matching an optional SCIM filter, following pagination.',
      args: z.strictObject({ filter: z.string().min(1).optional() }),
      result: z.object({ users: z.array(User), total: z.int() }),
    },
    replaceUser: {
      description: 'Replaces a user (PUT), with If-Match when the target gives ETags.',
      args: z.strictObject({ id: ScimId, user: NewUser }),
      result: z.object({ user: User }),
    },
    patchUser: {
      description: 'Applies SCIM PATCH operations to a user.',
      args: z.strictObject({ id: ScimId, operations: z.array(PatchOp).min(1) }),
      result: z.object({ user: User }),
    },
    deactivateUser: {
      effect: 'disable',
      description: 'Sets active: false; already inactive is success.',
      args: z.strictObject({ id: ScimId }),
      result: z.object({ changed: z.boolean() }),
    },
    deleteUser: {
      effect: 'delete',
      description: 'Deletes a user; already absent is success (deleted: false).',
      args: z.strictObject({ id: ScimId }),
      result: z.object({ deleted: z.boolean() }),
    },
    addGroupMember: {
      description: 'Adds a user to a group with PATCH; already a member is success.',
      args: z.strictObject({ groupId: ScimId, userId: ScimId }),
      result: z.object({ changed: z.boolean() }),
    },
    removeGroupMember: {
      description: 'Removes a user from a group with PATCH; not a member is success.',
      args: z.strictObject({ groupId: ScimId, userId: ScimId }),
      result: z.object({ changed: z.boolean() }),
    },
  },
});
