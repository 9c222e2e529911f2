/**
 * The `ldap` connector's ops over ldapts (directory primitives in ldap-directory.ts, failures
 * in ldap-errors.ts, usernames in ldap-username.ts). Every op converges: creating an existing
 * account of the same person updates it (someone else's is a TargetConflict, ownership.ts),
 * disabling a disabled one, adding a present member and removing an absent one succeed with
 * `changed: false`. The bind password is read from the worker's environment per connection and
 * appears in no error.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ResultCodeError, type Client, type Entry } from 'ldapts';
import type * as z from 'zod';
import type { ldap } from '../../src/connectors/ldap';
import { connectorFailure } from '../errors';
import {
  accountView,
  ACCOUNTDISABLE,
  connect,
  Directory,
  escapeDn,
  NORMAL_ACCOUNT,
  SECRET_ATTRIBUTE,
  strings,
  values,
  type LdapConfig,
  type Value,
} from './ldap-directory';
import type { Database } from '../../src/db/client';
import { readAccountActivity } from './ldap-activity';
import { mapError } from './ldap-errors';
import { claim, ownerOf } from './ownership';
import { withinLimits } from './support';
import { deriveUsername } from './ldap-username';
import type { OpContext } from './types';

export { escapeDn, escapeFilter, SECRET_ATTRIBUTE, type LdapConfig } from './ldap-directory';

type Ops = typeof ldap.ops;
type Args<K extends keyof Ops> = z.infer<Ops[K]['args']>;
type Result<K extends keyof Ops> = z.infer<Ops[K]['result']>;

/**
 * The attributes to write, with the owner's value in the correlation attribute. The attributes
 * may give that attribute too, but only with the same value: one account, one owner.
 */
function withOwnerAttribute(
  where: string,
  attributes: Record<string, Value>,
  correlation: LdapConfig['correlation'],
  owner: string | undefined,
): Record<string, Value> {
  if (!correlation || owner === undefined) return attributes;
  const out: Record<string, Value> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (key.toLowerCase() !== correlation.attribute.toLowerCase()) out[key] = value;
    else if (strings(value).join('\n') !== owner) {
      throw connectorFailure(
        'InvalidRequest',
        `${where}: attributes.${key} must be the owner's value or left out: config.correlation records the owner there`,
      );
    }
  }
  out[correlation.attribute] = owner;
  return out;
}

/**
 * Runs `fn` on one bound connection, within the connector's limits; what the directory or the
 * network throws is mapped to a failure type naming `op` (ldap-errors.ts). The connection is
 * closed whatever happens.
 */
export async function withDirectory<T>(
  ctx: OpContext,
  op: string,
  timeoutMs: number,
  fn: (dir: Directory) => Promise<T>,
): Promise<T> {
  const cfg = ctx.config as unknown as LdapConfig;
  return withinLimits(
    ctx.connector,
    cfg,
    async () => {
      let client: Client | undefined;
      try {
        client = await connect(ctx.connector, cfg, ctx.timeoutMs ?? timeoutMs);
        return await fn(new Directory(client, cfg));
      } catch (err) {
        // idflow's own failures, and a cancellation of the activity, are what they are
        if (err instanceof ApplicationFailure || ctx.signal?.aborted) throw err;
        return mapError(ctx.connector, op, err, cfg);
      } finally {
        await client?.unbind().catch(() => {});
      }
    },
    ctx.signal,
  );
}

/**
 * The ldap type's ops. `records` is idflow's database, where readAccountActivity records what
 * it reads; without it (tests of the other ops) that op fails as not configured.
 */
export function createLdapConnector(timeoutMs = 30_000, records?: Database) {
  const run = <T>(ctx: OpContext, op: string, fn: (dir: Directory) => Promise<T>) =>
    withDirectory(ctx, op, timeoutMs, fn);

  const setEnabled = (
    id: string,
    owner: string | undefined,
    ctx: OpContext,
    op: string,
    enable: boolean,
  ) =>
    run(ctx, op, async (dir): Promise<{ dn: string; changed: boolean }> => {
      const how = dir.cfg.disable;
      if (!how) {
        throw connectorFailure(
          'InvalidRequest',
          `${ctx.connector}.${op}: the connector has no disable method; set config.disable (userAccountControl, attribute or move)`,
        );
      }
      const entry = await dir.mustFind(id, op, ctx.connector, owner);
      if (dir.enabled(entry) === enable) return { dn: entry.dn, changed: false };
      if (how.method === 'userAccountControl') {
        const uac = Number(values(entry, 'userAccountControl')[0] ?? NORMAL_ACCOUNT);
        const next = enable ? uac & ~ACCOUNTDISABLE : uac | ACCOUNTDISABLE;
        await dir.setAttributes(entry, { userAccountControl: String(next) });
        return { dn: entry.dn, changed: true };
      }
      if (how.method === 'attribute') {
        await dir.setAttributes(entry, {
          [how.attribute]: enable ? how.enabledValue : how.disabledValue,
        });
        return { dn: entry.dn, changed: true };
      }
      const rdn = entry.dn.slice(0, entry.dn.search(/(?<!\\),/));
      const target = `${rdn},${enable ? dir.cfg.usersDn : how.disabledDn}`;
      await dir.client.modifyDN(entry.dn, target);
      return { dn: target, changed: true };
    });

  const ops = {
    createAccount: (a: Args<'createAccount'>, ctx: OpContext) =>
      run(ctx, 'createAccount', async (dir): Promise<Result<'createAccount'>> => {
        const where = `${ctx.connector}.createAccount`;
        const account = `${dir.idAttribute}=${a.id}`;
        const correlation = dir.cfg.correlation;
        const owner = ownerOf(where, correlation, a.owner);
        const attributes = withOwnerAttribute(where, a.attributes, correlation, owner);
        // an existing account is converged only when it is this person's (or unowned and adopted)
        const converge = async (existing: Entry) => {
          claim(
            where,
            account,
            correlation,
            owner,
            correlation ? values(existing, correlation.attribute) : [],
          );
          return {
            dn: existing.dn,
            created: false,
            changed: await dir.setAttributes(existing, attributes),
          };
        };
        // anywhere under usersDn (or the disabled OU): an existing account is converged, not doubled
        const found = await dir.find(a.id);
        let outcome: { dn: string; created: boolean; changed: boolean };
        if (found) outcome = await converge(found);
        else {
          const rdnAttribute = dir.cfg.rdnAttribute ?? dir.idAttribute;
          const entry: Record<string, string[]> = {
            objectClass: dir.cfg.userObjectClasses ?? ['inetOrgPerson'],
            [dir.idAttribute]: [a.id],
          };
          for (const [k, v] of Object.entries(attributes)) {
            const list = strings(v);
            if (list.length) entry[k] = list;
          }
          if (dir.cfg.disable?.method === 'userAccountControl' && !('userAccountControl' in entry))
            entry.userAccountControl = [String(NORMAL_ACCOUNT)];
          const rdnValue = entry[rdnAttribute]?.[0];
          if (!rdnValue) {
            throw connectorFailure(
              'InvalidRequest',
              `${where}: new entries are named by ${rdnAttribute}, which the attributes do not give`,
            );
          }
          const dn = `${rdnAttribute}=${escapeDn(rdnValue)},${dir.cfg.usersDn}`;
          try {
            await dir.client.add(dn, entry);
            outcome = { dn, created: true, changed: true };
          } catch (err) {
            if (!(err instanceof ResultCodeError && err.code === 68)) throw err;
            // created meanwhile: converge it if it is this person's account
            const raced = await dir.find(a.id);
            if (!raced) {
              throw connectorFailure(
                'TargetConflict',
                `${where}: another entry under ${dir.cfg.usersDn} has the ${rdnAttribute} that would name ${account}; it was left unchanged`,
              );
            }
            outcome = await converge(raced);
          }
        }
        const { dn: entryDn, created } = outcome;
        let changed = outcome.changed;
        for (const group of a.groups ?? [])
          changed = (await dir.membership('add', entryDn, group, ctx.connector)).changed || changed;
        return { dn: entryDn, created, changed };
      }),

    deriveUsername: (a: Args<'deriveUsername'>, ctx: OpContext) =>
      run(ctx, 'deriveUsername', (dir) =>
        deriveUsername(dir, a, `${ctx.connector}.deriveUsername`),
      ),

    updateAccount: (a: Args<'updateAccount'>, ctx: OpContext) =>
      run(ctx, 'updateAccount', async (dir): Promise<Result<'updateAccount'>> => {
        const owner = dir.cfg.correlation?.attribute.toLowerCase();
        if (owner && Object.keys(a.attributes).some((k) => k.toLowerCase() === owner)) {
          // owners change only by createAccount (adopting an unowned account)
          throw connectorFailure(
            'InvalidRequest',
            `${ctx.connector}.updateAccount: ${dir.cfg.correlation?.attribute} records the account's owner (config.correlation) and is not changed by updates`,
          );
        }
        const entry = await dir.mustFind(a.id, 'updateAccount', ctx.connector, a.owner);
        return { dn: entry.dn, changed: await dir.setAttributes(entry, a.attributes) };
      }),

    disableAccount: (a: Args<'disableAccount'>, ctx: OpContext) =>
      setEnabled(a.id, a.owner, ctx, 'disableAccount', false),

    enableAccount: (a: Args<'enableAccount'>, ctx: OpContext) =>
      setEnabled(a.id, a.owner, ctx, 'enableAccount', true),

    deleteAccount: (a: Args<'deleteAccount'>, ctx: OpContext) =>
      run(ctx, 'deleteAccount', async (dir): Promise<Result<'deleteAccount'>> => {
        const entry = await dir.find(a.id, a.owner);
        if (!entry) return { deleted: false };
        await dir.client.del(entry.dn);
        return { deleted: true };
      }),

    addToGroup: (a: Args<'addToGroup'>, ctx: OpContext) =>
      run(ctx, 'addToGroup', async (dir): Promise<Result<'addToGroup'>> => {
        const entry = await dir.mustFind(a.id, 'addToGroup', ctx.connector, a.owner);
        return dir.membership('add', entry.dn, a.group, ctx.connector);
      }),

    removeFromGroup: (a: Args<'removeFromGroup'>, ctx: OpContext) =>
      run(ctx, 'removeFromGroup', async (dir): Promise<Result<'removeFromGroup'>> => {
        const entry = await dir.find(a.id, a.owner);
        if (!entry) return { group: dir.groupDn(a.group, ctx.connector), changed: false };
        return dir.membership('delete', entry.dn, a.group, ctx.connector);
      }),

    getAccount: (a: Args<'getAccount'>, ctx: OpContext) =>
      run(ctx, 'getAccount', async (dir): Promise<Result<'getAccount'>> => {
        const entry = await dir.find(a.id);
        if (!entry) return { found: false };
        return { found: true, account: accountView(dir, entry, await dir.groupsOf(entry.dn)) };
      }),

    listGroups: (_a: Args<'listGroups'>, ctx: OpContext) =>
      run(ctx, 'listGroups', async (dir): Promise<Result<'listGroups'>> => {
        const { searchEntries } = await dir.client.search(dir.cfg.groupsDn, {
          scope: 'sub',
          filter: `(objectClass=${dir.groupClass})`,
          attributes: ['cn', 'description', dir.member],
          paged: true,
        });
        return {
          groups: searchEntries
            .map((e) => ({
              name: values(e, 'cn')[0] ?? e.dn,
              dn: e.dn,
              ...(values(e, 'description')[0] ? { description: values(e, 'description')[0] } : {}),
              members: values(e, dir.member).length,
            }))
            .sort((x, y) => x.name.localeCompare(y.name)),
        };
      }),

    readAccountActivity: (a: Args<'readAccountActivity'>, ctx: OpContext) =>
      run(ctx, 'readAccountActivity', (dir): Promise<Result<'readAccountActivity'>> => {
        if (!records) {
          throw connectorFailure(
            'ConnectorNotConfigured',
            `${ctx.connector}.readAccountActivity: this worker has no database to record account activity in`,
          );
        }
        return readAccountActivity(dir, ctx, records, a.pageSize);
      }),

    search: (a: Args<'search'>, ctx: OpContext) =>
      run(ctx, 'search', async (dir): Promise<Result<'search'>> => {
        const { searchEntries } = await dir.client.search(a.base ?? dir.cfg.usersDn, {
          scope: 'sub',
          filter: a.filter,
          attributes: (a.attributes ?? ['*']).filter((n) => !SECRET_ATTRIBUTE.test(n)),
          sizeLimit: a.sizeLimit ?? 100,
        });
        return {
          entries: searchEntries.map((e) => {
            const out: Record<string, string | string[]> = { dn: e.dn };
            for (const key of Object.keys(e)) {
              if (key === 'dn' || SECRET_ATTRIBUTE.test(key)) continue;
              const v = values(e, key);
              out[key] = v.length === 1 ? (v[0] as string) : v;
            }
            return out;
          }),
        };
      }),
  };

  return {
    ops,
    /** Binds with the configured credentials and reads the configured DNs: `connectors test`. */
    check: (ctx: OpContext): Promise<string[]> =>
      run(ctx, 'check', async (dir) => {
        const found: string[] = [`bound to ${dir.cfg.url} as ${dir.cfg.bindDn}`];
        for (const base of [dir.cfg.usersDn, dir.cfg.groupsDn]) {
          await dir.client.search(base, {
            scope: 'base',
            filter: '(objectClass=*)',
            attributes: ['dn'],
          });
          found.push(`can read ${base}`);
        }
        return found;
      }),
  };
}
