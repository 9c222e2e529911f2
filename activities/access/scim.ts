/**
 * Reconcile on a `scim` connector: a person's account is the user whose correlation attribute
 * holds their id (one GET /Users with a filter), and group membership is read from the managed
 * groups themselves (GET /Groups by displayName, 50 names a request), since many services leave
 * a user's `groups` out. Changes go through the connector's own ops; groups are named by
 * displayName in definitions and resolved to SCIM ids once per apply.
 */
import * as z from 'zod';
import type { ActualAccess, Change } from '../../src/access/types';
import type { JsonValue } from '../../src/dsl/ir';
import { connectorFailure } from '../errors';
import { SECRET_ATTRIBUTE } from '../connectors/ldap-directory';
import { ownerValues } from '../connectors/scim';
import {
  filterString,
  ListResponse,
  parsed,
  ScimTarget,
  type ScimConfig,
  type ScimUser,
} from '../connectors/scim-target';
import type { OpContext } from '../connectors/types';
import type { AccessAdapter, InvokeOp } from './adapter';
import {
  applyInStages,
  changedBy,
  checkChanges,
  checkManaged,
  correlationOf,
  duplicateOwner,
} from './common';

const KINDS = ['group'];
/** displayNames per GET /Groups: keeps the filter (and the URL) of a request short. */
export const GROUPS_PER_REQUEST = 50;

const Group = z.looseObject({
  id: z.string(),
  displayName: z.string(),
  members: z.array(z.looseObject({ value: z.string() })).optional(),
});
type Group = z.infer<typeof Group>;

/** A group's displayName as SCIM compares it (`caseExact: false`). */
const nameKey = (name: string) => name.toLowerCase();

/** The groups named `names`, with their members: one paginated GET per 50 names. */
async function groupsNamed(t: ScimTarget, names: string[]): Promise<Map<string, Group>> {
  const found = new Map<string, Group>();
  const unique = [...new Set(names)];
  const pageSize = t.cfg.pageSize ?? 100;
  for (let i = 0; i < unique.length; i += GROUPS_PER_REQUEST) {
    const chunk = unique.slice(i, i + GROUPS_PER_REQUEST);
    const filter = chunk.map((name) => `displayName eq ${filterString(name)}`).join(' or ');
    for (let start = 1, seen = 0; ;) {
      const query = new URLSearchParams({
        filter,
        attributes: 'id,displayName,members',
        startIndex: String(start),
        count: String(pageSize),
      });
      const res = await t.call('GET', `/Groups?${query.toString()}`);
      const page = parsed(t.where, ListResponse, res.body, 'list response');
      const items = (page.Resources ?? []).map((r) => parsed(t.where, Group, r, 'group'));
      for (const group of items) found.set(nameKey(group.displayName), group);
      seen += items.length;
      if (items.length === 0 || seen >= page.totalResults) break;
      start += items.length;
    }
  }
  return found;
}

/** The user's attributes as reconcile shows them: no SCIM bookkeeping, groups or secrets. */
function attributesOf(user: ScimUser): Record<string, JsonValue> {
  const strip = (value: unknown): JsonValue => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value as JsonValue;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !SECRET_ATTRIBUTE.test(key))
        .map(([key, v]) => [key, strip(v)]),
    );
  };
  const rest: Record<string, unknown> = { ...user };
  for (const key of ['schemas', 'meta', 'id', 'groups']) delete rest[key];
  return strip(rest) as Record<string, JsonValue>;
}

/** Reads and changes a person's access on `scim` connectors. */
export function createScimAccess(timeoutMs = 30_000): AccessAdapter {
  const target = (ctx: OpContext, op: string) =>
    new ScimTarget(ctx, ctx.config as unknown as ScimConfig, op, ctx.timeoutMs ?? timeoutMs);

  return {
    async read(ctx, owner, managed): Promise<ActualAccess> {
      const { attribute } = correlationOf(ctx);
      checkManaged(
        ctx,
        KINDS,
        managed.map((m) => m.kind),
      );
      const t = target(ctx, 'readAccess');
      const none: ActualAccess = {
        connector: ctx.connector,
        connectorType: 'scim',
        entitlements: [],
        unmanaged: 0,
      };
      // SCIM filters compare without case where person ids are exact: only the owner's own value
      const users = (await t.list(`${attribute} eq ${filterString(owner)}`)).users.filter((u) =>
        ownerValues(u, attribute).includes(owner),
      );
      if (users.length > 1) duplicateOwner(ctx, users.length, attribute);
      const user = users[0];
      if (!user) return none;
      const groups = managed.length
        ? await groupsNamed(
            t,
            managed.map((m) => m.value),
          )
        : new Map<string, Group>();
      const holds = (name: string) =>
        (groups.get(nameKey(name))?.members ?? []).some((m) => m.value === user.id);
      const managedIds = new Set([...groups.values()].map((g) => g.id));
      // the user's own list of groups, when the service gives one: the others are counted
      const listed = Array.isArray(user.groups) ? (user.groups as Array<{ value?: unknown }>) : [];
      return {
        ...none,
        account: {
          id: user.userName,
          targetId: user.id,
          enabled: user.active !== false,
          attributes: attributesOf(user),
        },
        entitlements: managed.filter((ref) => holds(ref.value)),
        unmanaged: listed.filter((g) => !managedIds.has(String(g.value))).length,
      };
    },

    async apply(ctx, owner, changes, invoke: InvokeOp): Promise<boolean[]> {
      checkChanges(ctx, changes, KINDS);
      const names = changes.flatMap((c) =>
        c.op === 'addEntitlement' || c.op === 'removeEntitlement' ? [c.value as string] : [],
      );
      const groups = names.length
        ? await groupsNamed(target(ctx, 'resolveGroups'), names)
        : new Map<string, Group>();
      const unknown = names.find((name) => !groups.has(nameKey(name)));
      if (unknown !== undefined) {
        throw connectorFailure(
          'TargetNotFound',
          `connector '${ctx.connector}': no group has the displayName '${unknown}'`,
        );
      }
      // accounts created by this apply: their SCIM ids, from createUser's answer
      const ids = new Map<string, string>();
      const idOf = (change: Change): string => {
        const id = change.targetId ?? ids.get(change.account);
        if (id === undefined) {
          throw connectorFailure(
            'InvalidRequest',
            `connector '${ctx.connector}': ${change.op} of an account that has no SCIM id and is not created before it`,
          );
        }
        return id;
      };
      return applyInStages(changes, async (change, index): Promise<boolean> => {
        switch (change.op) {
          case 'createAccount': {
            const user = { userName: change.account, active: true, ...change.attributes };
            const result = await invoke('createUser', { owner, user }, index);
            const id = (result as { user?: { id?: unknown } } | null)?.user?.id;
            if (typeof id === 'string') ids.set(change.account, id);
            return changedBy(result);
          }
          case 'enableAccount': {
            const operations = [{ op: 'replace', path: 'active', value: true }];
            await invoke('patchUser', { id: idOf(change), operations }, index);
            return true; // a PATCH writes; the plan enables only a disabled account
          }
          case 'updateAccount': {
            const operations = Object.entries(change.attributes ?? {}).map(([path, value]) => ({
              op: 'replace',
              path,
              value,
            }));
            if (operations.length)
              await invoke('patchUser', { id: idOf(change), operations }, index);
            return operations.length > 0;
          }
          case 'disableAccount':
            return changedBy(await invoke('deactivateUser', { id: idOf(change) }, index));
          case 'deleteAccount':
            return changedBy(await invoke('deleteUser', { id: idOf(change) }, index));
          case 'addEntitlement':
          case 'removeEntitlement': {
            const groupId = (groups.get(nameKey(change.value as string)) as Group).id;
            const op = change.op === 'addEntitlement' ? 'addGroupMember' : 'removeGroupMember';
            return changedBy(await invoke(op, { groupId, userId: idOf(change) }, index));
          }
          default: {
            const never: never = change.op;
            throw new Error(`unknown change op ${String(never)}`);
          }
        }
      });
    },
  };
}
