/**
 * `ldap`: accounts and group memberships in an LDAP directory (OpenLDAP, Active Directory).
 * Declarations only; the activities live in activities/connectors/ldap.ts.
 */
import * as z from 'zod';
import {
  AttributeValue,
  correlationConfig,
  Limits,
  Owner,
  REMOTE_DEFAULTS,
  SecretEnv,
  Tls,
  withOwner,
} from './common';
import { defineConnectorType } from './spec';

const AccountId = z
  .string()
  .min(1)
  .max(256)
  .describe('The account name: the value of the configured id attribute (uid, sAMAccountName)');
const Group = z.string().min(1).describe('A group: its cn under groupsDn, or its full DN');
const AttributeName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be an LDAP attribute name');
const Attributes = z.record(AttributeName, AttributeValue);
/**
 * With `owner`, an op acts only on that person's account of the name (config.correlation): a
 * name is not unique in a directory, an owner is. Someone else's account is a TargetConflict.
 */
const OnlyOwner = Owner.optional().describe(
  "the owner's correlation value: act only on that person's account of this name",
);
const Account = z.object({
  dn: z.string(),
  id: z.string(),
  enabled: z.boolean(),
  groups: z.array(z.string()),
  attributes: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
});

/**
 * A DN compared as directories compare group DNs: case, spaces around separators and runs of
 * spaces inside a value do not matter.
 */
function normalDn(dn: string): string {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .trim()
        .replace(/\s*=\s*/, '=')
        .replace(/\s+/g, ' ')
        .toLowerCase(),
    )
    .join(',');
}

const DN_FORM = /^[a-z][a-z0-9-]*\s*=/i;

/**
 * A role's group on an LDAP connector: a cn under groupsDn, or a full DN under it named by its
 * cn. One group has one written form up to case and spaces: an attribute alias (`commonName=`)
 * or an escaped character would let one group pass for another in comparisons (SoD rules among
 * them), so they are refused.
 */
function checkGroup(value: string, config: Record<string, unknown>): string | undefined {
  const groupsDn = typeof config.groupsDn === 'string' ? config.groupsDn : '';
  if (value.includes('\\'))
    return `group '${value}': escaped characters are not supported in group names; use the group's plain cn`;
  if (!DN_FORM.test(value)) {
    return value.trim() === value && !value.includes(',')
      ? undefined
      : `'${value}' is not a group name: a cn without commas or spaces around it`;
  }
  const dn = normalDn(value);
  if (!dn.startsWith('cn='))
    return `group '${value}' must be named by its cn (cn=…,${groupsDn}), or by its cn alone`;
  const base = normalDn(groupsDn);
  return base && dn.endsWith(`,${base}`) && dn.length > base.length + 1
    ? undefined
    : `group '${value}' is outside the connector's groupsDn (${groupsDn}); idflow manages only groups under it`;
}

/**
 * Where the directory keeps an account's last sign-in and last password change, and how it
 * writes them, so idflow can record both (readAccountActivity, and every reconcile read). The
 * defaults fit OpenLDAP: `authTimestamp` (the lastbind overlay), `pwdChangedTime` (the ppolicy
 * overlay), GeneralizedTime. Active Directory: `lastLogonTimestamp`, `pwdLastSet`, `fileTime`
 * (0 there means never). docs/connectors.md says what each directory needs.
 */
export const ActivityConfig = z
  .strictObject({
    lastLogin: AttributeName.optional().describe(
      'the last sign-in: default authTimestamp (OpenLDAP lastbind); lastLogonTimestamp on AD',
    ),
    passwordChanged: AttributeName.optional().describe(
      'the last password change: default pwdChangedTime (OpenLDAP ppolicy); pwdLastSet on AD',
    ),
    format: z
      .enum(['generalizedTime', 'fileTime'])
      .optional()
      .describe('default generalizedTime (OpenLDAP); fileTime for AD (Windows FILETIME)'),
  })
  .describe("where the directory keeps an account's last sign-in and password change");

/** The settings `activity` resolves to, defaults applied. */
export function activitySettings(config: { activity?: z.infer<typeof ActivityConfig> }): {
  lastLogin: string;
  passwordChanged: string;
  format: 'generalizedTime' | 'fileTime';
} {
  return {
    lastLogin: config.activity?.lastLogin ?? 'authTimestamp',
    passwordChanged: config.activity?.passwordChanged ?? 'pwdChangedTime',
    format: config.activity?.format ?? 'generalizedTime',
  };
}

export const ldap = defineConnectorType({
  type: 'ldap',
  description: 'Accounts and groups in an LDAP directory (OpenLDAP, Active Directory).',
  config: z.strictObject({
    url: z
      .string()
      .regex(/^ldaps?:\/\/[^\s/]+\/?$/, 'must be ldap://host:port or ldaps://host:port'),
    bindDn: z.string().min(1),
    bindPassword: SecretEnv,
    startTls: z.boolean().optional(),
    tls: Tls.optional(),
    usersDn: z.string().min(1),
    groupsDn: z.string().min(1),
    idAttribute: z.string().min(1).optional().describe('default uid; sAMAccountName for AD'),
    rdnAttribute: z
      .string()
      .min(1)
      .optional()
      .describe('names new entries; default idAttribute; cn for AD'),
    userObjectClasses: z.array(z.string().min(1)).min(1).optional(),
    memberAttribute: z.string().min(1).optional(),
    groupObjectClass: z.string().min(1).optional(),
    disable: z
      .discriminatedUnion('method', [
        z.strictObject({ method: z.literal('userAccountControl') }),
        z.strictObject({
          method: z.literal('attribute'),
          attribute: z.string().min(1),
          enabledValue: z.string(),
          disabledValue: z.string(),
        }),
        z.strictObject({ method: z.literal('move'), disabledDn: z.string().min(1) }),
      ])
      .optional(),
    correlation: correlationConfig(
      AttributeName.describe('where the owner is recorded: employeeNumber, employeeID, …'),
    ).optional(),
    activity: ActivityConfig.optional(),
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
        description: 'Group memberships: a cn under groupsDn, or a full DN under it',
        check: checkGroup,
        canonical: (value, config) =>
          normalDn(
            DN_FORM.test(value)
              ? value
              : `cn=${value},${typeof config.groupsDn === 'string' ? config.groupsDn : ''}`,
          ),
      },
    },
  },
  ops: {
    createAccount: {
      description:
        "Creates the account under usersDn, recording its owner; when it exists and is the same person's, sets the given attributes instead (created: false); someone else's is a TargetConflict.",
      ...withOwner({
        id: AccountId,
        attributes: Attributes,
        groups: z.array(Group).optional(),
      }),
      result: z.object({ dn: z.string(), created: z.boolean(), changed: z.boolean() }),
    },
    updateAccount: {
      description:
        'Replaces the given attributes; an empty list or empty string removes an attribute.',
      args: z.strictObject({ id: AccountId, attributes: Attributes, owner: OnlyOwner }),
      result: z.object({ dn: z.string(), changed: z.boolean() }),
    },
    disableAccount: {
      effect: 'disable',
      description: 'Disables the account the configured way; already disabled is success.',
      args: z.strictObject({ id: AccountId, owner: OnlyOwner }),
      result: z.object({ dn: z.string(), changed: z.boolean() }),
    },
    enableAccount: {
      description: 'Enables the account the configured way; already enabled is success.',
      args: z.strictObject({ id: AccountId, owner: OnlyOwner }),
      result: z.object({ dn: z.string(), changed: z.boolean() }),
    },
    deleteAccount: {
      effect: 'delete',
      description: 'Deletes the account; already absent is success (deleted: false).',
      args: z.strictObject({ id: AccountId, owner: OnlyOwner }),
      result: z.object({ deleted: z.boolean() }),
    },
    addToGroup: {
      description: 'Adds the account to the group; already a member is success.',
      args: z.strictObject({ id: AccountId, group: Group, owner: OnlyOwner }),
      result: z.object({ group: z.string(), changed: z.boolean() }),
    },
    removeFromGroup: {
      description: 'Removes the account from the group; not a member is success.',
      args: z.strictObject({ id: AccountId, group: Group, owner: OnlyOwner }),
      result: z.object({ group: z.string(), changed: z.boolean() }),
    },
    deriveUsername: {
      readOnly: true,
      description:
        "A free username for a person: first initial and family name folded to [a-z0-9.-] (jsmith), then jsmith2, jsmith3, …; the person's own account, if they have one, is theirs again.",
      args: z.strictObject({
        givenName: z.string().max(256),
        familyName: z.string().max(256),
        owner: Owner,
        maxLength: z
          .int()
          .min(4)
          .max(256)
          .optional()
          .describe('longest username the target takes; default 20 (sAMAccountName)'),
      }),
      result: z.object({
        username: z.string(),
        existing: z.boolean().describe("true when it names the person's own existing account"),
      }),
    },
    getAccount: {
      readOnly: true,
      description: 'Reads the account, its state and its groups; found: false when absent.',
      args: z.strictObject({ id: AccountId }),
      result: z.object({ found: z.boolean(), account: Account.optional() }),
    },
    listGroups: {
      readOnly: true,
      description: 'The groups under groupsDn (name, DN, description, member count).',
      args: z.strictObject({}),
      result: z.object({
        groups: z.array(
          z.object({
            name: z.string(),
            dn: z.string(),
            description: z.string().optional(),
            members: z.int(),
          }),
        ),
      }),
    },
    readAccountActivity: {
      description:
        "Reads every account's last sign-in and password change under usersDn (paged) and records them on idflow's account records of this connector, matched by account name (and owner, where the connector records owners); times only move forward. Accounts idflow has no record of are counted, not created.",
      args: z.strictObject({
        pageSize: z
          .int()
          .min(1)
          .max(1000)
          .optional()
          .describe(
            'entries per page of the directory search (and per database write); default 500',
          ),
      }),
      result: z.object({
        read: z.int().describe('accounts read from the directory'),
        updated: z.int().describe("account records of idflow's updated"),
        unknown: z.int().describe('accounts read that match no account record of idflow'),
      }),
    },
    search: {
      readOnly: true,
      description: 'An LDAP search (filter, base, attributes, size limit at most 1000).',
      args: z.strictObject({
        filter: z.string().min(1),
        base: z.string().min(1).optional(),
        attributes: z.array(z.string().min(1)).optional(),
        sizeLimit: z.int().min(1).max(1000).optional(),
      }),
      result: z.object({
        entries: z.array(z.record(z.string(), z.union([z.string(), z.array(z.string())]))),
      }),
    },
  },
});
