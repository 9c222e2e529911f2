/**
 * The `scim` connector's ops over a SCIM 2.0 service (scim-target.ts). Ops converge: creating
 * a user whose userName the same person already has replaces it (someone else's is a
 * TargetConflict, ownership.ts), deactivating an inactive user, adding a present member and
 * removing an absent one succeed with `changed: false`. Services that bend RFC 7644 still
 * converge: a 201 without the user's id is followed by a search for the userName, a 5xx on
 * DELETE by a GET that may show the user gone.
 */
import type * as z from 'zod';
import type { scim } from '../../src/connectors/scim';
import { connectorFailure } from '../errors';
import { claim, ownerOf, type Correlation } from './ownership';
import {
  filterString,
  ListResponse,
  parsed,
  ScimTarget,
  ScimUser,
  schemasOf,
  type ScimConfig,
} from './scim-target';
import type { OpContext } from './types';

export { filterString, type ScimConfig } from './scim-target';

type Ops = typeof scim.ops;
type Args<K extends keyof Ops> = z.infer<Ops[K]['args']>;
type Result<K extends keyof Ops> = z.infer<Ops[K]['result']>;

/** A user as idflow hands it to flows: SCIM's attributes without schemas and meta. */
function view(user: ScimUser): Result<'getUser'>['user'] & object {
  const rest: Record<string, unknown> = { ...user };
  delete rest.schemas;
  delete rest.meta;
  return rest as Result<'getUser'>['user'] & object;
}

/** Whether a target's answer holds a resource id (a 201 may come without one). */
function hasId(body: unknown): boolean {
  return (
    typeof body === 'object' && body !== null && typeof (body as { id?: unknown }).id === 'string'
  );
}

/** `externalId`, or an extension attribute by URN: its schema and its name. */
function ownerPath(attribute: string): { schema?: string; name: string } {
  const cut = attribute.lastIndexOf(':');
  return cut < 0
    ? { name: attribute }
    : { schema: attribute.slice(0, cut), name: attribute.slice(cut + 1) };
}

/** The owner values a user holds in the correlation attribute. */
export function ownerValues(user: Record<string, unknown>, attribute: string): string[] {
  const { schema, name } = ownerPath(attribute);
  const holder = schema ? user[schema] : user;
  const value =
    typeof holder === 'object' && holder !== null
      ? (holder as Record<string, unknown>)[name]
      : undefined;
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter((v) => v !== '').map(String);
}

/**
 * The user with the owner's value in the correlation attribute; the user may give that
 * attribute too, but only with the same value: one account, one owner.
 */
function withOwnerValue(
  where: string,
  user: Args<'createUser'>['user'],
  correlation: Correlation | undefined,
  owner: string | undefined,
): Args<'createUser'>['user'] {
  if (!correlation || owner === undefined) return user;
  const given = ownerValues(user, correlation.attribute);
  if (given.length > 0 && (given.length > 1 || given[0] !== owner)) {
    throw connectorFailure(
      'InvalidRequest',
      `${where}: user.${correlation.attribute} must be the owner's value or left out: config.correlation records the owner there`,
    );
  }
  const { schema, name } = ownerPath(correlation.attribute);
  if (!schema) return { ...user, [name]: owner };
  const extension = user[schema];
  return {
    ...user,
    [schema]: {
      ...(typeof extension === 'object' && extension !== null ? extension : {}),
      [name]: owner,
    },
  };
}

/** Owners change only by createUser (adopting an unowned user): updates never move a user. */
function refuseOwnerChange(where: string, correlation: Correlation): never {
  throw connectorFailure(
    'InvalidRequest',
    `${where}: ${correlation.attribute} records the user's owner (config.correlation) and is not changed by updates`,
  );
}

/** Whether a PATCH operation sets or removes the correlation attribute (by path or by value). */
function touchesOwner(
  op: { path?: string | undefined; value?: unknown },
  attribute: string,
): boolean {
  const { schema, name } = ownerPath(attribute);
  const full = (schema ? `${schema}:${name}` : name).toLowerCase();
  if (op.path !== undefined) {
    const path = op.path.toLowerCase();
    return (
      path === full ||
      path.startsWith(`${full}[`) ||
      (schema !== undefined && path === schema.toLowerCase())
    );
  }
  if (typeof op.value !== 'object' || op.value === null) return false;
  const value = op.value as Record<string, unknown>;
  const keys = Object.keys(value).map((k) => k.toLowerCase());
  if (keys.includes(full)) return true;
  return ownerValues(value, attribute).length > 0;
}

export function createScimConnector(timeoutMs = 30_000) {
  function run<T>(ctx: OpContext, op: string, fn: (t: ScimTarget) => Promise<T>): Promise<T> {
    const cfg = ctx.config as unknown as ScimConfig;
    // the limits apply to each HTTP request (a paginated list is many), in ScimTarget.call
    return fn(new ScimTarget(ctx, cfg, op, ctx.timeoutMs ?? timeoutMs));
  }

  const ops = {
    createUser: (a: Args<'createUser'>, ctx: OpContext) =>
      run(ctx, 'createUser', async (t): Promise<Result<'createUser'>> => {
        const correlation = t.cfg.correlation;
        const owner = ownerOf(t.where, correlation, a.owner);
        const user = withOwnerValue(t.where, a.user, correlation, owner);
        const res = await t.call('POST', '/Users', {
          body: { ...user, schemas: schemasOf(user) },
          accept: (s) => (s >= 200 && s < 300) || s === 409,
        });
        const account = (found: ScimUser) => `user ${found.id}`;
        const owners = (found: ScimUser) =>
          correlation ? ownerValues(found, correlation.attribute) : [];
        if (res.status !== 409) {
          if (hasId(res.body))
            return { user: view(parsed(t.where, ScimUser, res.body, 'user')), created: true };
          // created, but the answer holds no resource (RFC 7644 says it should, not must)
          const created = await t.findBy('userName', user.userName);
          if (!created) {
            throw connectorFailure(
              'InvalidResponse',
              `${t.where}: the target answered ${res.status} without the user's id, and no user has the userName it was given`,
            );
          }
          if (correlation) claim(t.where, account(created), correlation, owner, owners(created));
          return { user: view(created), created: true };
        }
        // the userName is taken: converge that user, if it is this person's
        const existing = await t.findBy('userName', user.userName);
        if (!existing) {
          throw connectorFailure(
            'TargetConflict',
            `${t.where}: the target refused the userName as taken, but no user has it`,
          );
        }
        claim(t.where, account(existing), correlation, owner, owners(existing));
        return { user: view(await t.replace(existing.id, user)), created: false };
      }),

    getUser: (a: Args<'getUser'>, ctx: OpContext) =>
      run(ctx, 'getUser', async (t): Promise<Result<'getUser'>> => {
        const found = await t.getUser(a.id);
        return found ? { found: true, user: view(found.user) } : { found: false };
      }),

    findUser: (a: Args<'findUser'>, ctx: OpContext) =>
      run(ctx, 'findUser', async (t): Promise<Result<'findUser'>> => {
        const user =
          a.userName !== undefined
            ? await t.findBy('userName', a.userName)
            : await t.findBy('externalId', a.externalId as string);
        return user ? { found: true, user: view(user) } : { found: false };
      }),

    listUsers: (a: Args<'listUsers'>, ctx: OpContext) =>
      run(ctx, 'listUsers', async (t): Promise<Result<'listUsers'>> => {
        const { users, total } = await t.list(a.filter);
        return { users: users.map(view), total };
      }),

    replaceUser: (a: Args<'replaceUser'>, ctx: OpContext) =>
      run(ctx, 'replaceUser', async (t): Promise<Result<'replaceUser'>> => {
        let user = a.user;
        const correlation = t.cfg.correlation;
        if (correlation) {
          // a replacement keeps the user's owner: it may repeat it, never change or drop it
          const current = await t.getUser(a.id);
          if (!current) throw connectorFailure('TargetNotFound', `${t.where}: no user ${a.id}`);
          const owners = ownerValues(current.user, correlation.attribute);
          if (owners.length === 1) user = withOwnerValue(t.where, user, correlation, owners[0]);
          else if (ownerValues(user, correlation.attribute).length > 0)
            refuseOwnerChange(t.where, correlation);
        }
        return { user: view(await t.replace(a.id, user)) };
      }),

    patchUser: (a: Args<'patchUser'>, ctx: OpContext) =>
      run(ctx, 'patchUser', async (t): Promise<Result<'patchUser'>> => {
        const correlation = t.cfg.correlation;
        if (correlation && a.operations.some((op) => touchesOwner(op, correlation.attribute)))
          refuseOwnerChange(t.where, correlation);
        const patched = await t.patch(a.id, a.operations);
        const user = patched ?? (await t.getUser(a.id))?.user;
        if (!user) throw connectorFailure('TargetNotFound', `${t.where}: no user ${a.id}`);
        return { user: view(user) };
      }),

    deactivateUser: (a: Args<'deactivateUser'>, ctx: OpContext) =>
      run(ctx, 'deactivateUser', async (t): Promise<Result<'deactivateUser'>> => {
        const current = await t.getUser(a.id);
        if (!current) throw connectorFailure('TargetNotFound', `${t.where}: no user ${a.id}`);
        if (current.user.active === false) return { changed: false };
        await t.patch(a.id, [{ op: 'replace', path: 'active', value: false }]);
        return { changed: true };
      }),

    deleteUser: (a: Args<'deleteUser'>, ctx: OpContext) =>
      run(ctx, 'deleteUser', async (t): Promise<Result<'deleteUser'>> => {
        const res = await t.call('DELETE', `/Users/${encodeURIComponent(a.id)}`, {
          accept: (s) => (s >= 200 && s < 300) || s === 404 || s >= 500,
        });
        if (res.status < 500) return { deleted: res.status !== 404 };
        // some targets answer 5xx for a user already deleted: gone is gone
        if (!(await t.getUser(a.id))) return { deleted: false };
        throw connectorFailure(
          'TargetUnavailable',
          `${t.where}: DELETE /Users/${a.id} answered ${res.status}, and the user is still there`,
        );
      }),

    addGroupMember: (a: Args<'addGroupMember'>, ctx: OpContext) =>
      run(ctx, 'addGroupMember', async (t): Promise<Result<'addGroupMember'>> => {
        if ((await t.groupMembers(a.groupId)).includes(a.userId)) return { changed: false };
        await t.patchGroup(a.groupId, [
          { op: 'add', path: 'members', value: [{ value: a.userId }] },
        ]);
        return { changed: true };
      }),

    removeGroupMember: (a: Args<'removeGroupMember'>, ctx: OpContext) =>
      run(ctx, 'removeGroupMember', async (t): Promise<Result<'removeGroupMember'>> => {
        if (!(await t.groupMembers(a.groupId)).includes(a.userId)) return { changed: false };
        await t.patchGroup(a.groupId, [
          { op: 'remove', path: `members[value eq ${filterString(a.userId)}]` },
        ]);
        return { changed: true };
      }),
  };

  return {
    ops,
    /** Reads the service provider's configuration and one page of users: `connectors test`. */
    check: (ctx: OpContext): Promise<string[]> =>
      run(ctx, 'check', async (t) => {
        const found: string[] = [];
        const spc = await t.call('GET', '/ServiceProviderConfig', {
          accept: (s) => (s >= 200 && s < 300) || s === 404,
        });
        found.push(
          spc.status === 404
            ? 'no /ServiceProviderConfig (optional)'
            : `ServiceProviderConfig read from ${t.cfg.baseUrl}`,
        );
        const res = await t.call('GET', '/Users?startIndex=1&count=1');
        const page = parsed(t.where, ListResponse, res.body, 'list response');
        found.push(`authenticated; ${page.totalResults} users`);
        return found;
      }),
  };
}
