/**
 * Reconcile on an `ldap` connector: a person's account is the entry whose correlation attribute
 * holds their id, found with one search under the base of usersDn (and of the disabled OU, when
 * disabling moves accounts), and its groups with one more — over one bound connection, within
 * the connector's limits. Changes go through the connector's own ops.
 */
import { log } from '@temporalio/activity';
import type { Entry } from 'ldapts';
import { ldap as ldapType } from '../../src/connectors/ldap';
import type { ActualAccess, Change, EntitlementRef } from '../../src/access/types';
import type { JsonValue } from '../../src/dsl/ir';
import { accountView, type Directory, escapeFilter, values } from '../connectors/ldap-directory';
import { withDirectory } from '../connectors/ldap';
import { activityAttributes, entryActivity } from '../connectors/ldap-activity';
import { MalformedTimeError } from '../connectors/ldap-times';
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
import { isUnder, parentOfBoth } from './dn';

const KINDS = ['group'];

/** One comparison of groups for the plan and the read: the ldap type's canonical form. */
function groupKey(dn: string, config: Record<string, unknown>): string {
  const canonical = ldapType.access.entitlements.group.canonical;
  return canonical(dn, config);
}

/**
 * The account's sign-in and password-change times, for idflow's record. A value that is not a
 * time of the configured format must not hold up reconcile over a record: the times are left
 * unread (the record keeps what it had) and the worker logs which attribute, never the value.
 */
function activityOf(ctx: OpContext, dir: Directory, entry: Entry) {
  try {
    const times = entryActivity(dir.cfg, entry);
    return {
      lastLoginAt: times.lastLoginAt?.toISOString() ?? null,
      passwordChangedAt: times.passwordChangedAt?.toISOString() ?? null,
    };
  } catch (err) {
    if (!(err instanceof MalformedTimeError)) throw err;
    try {
      log.warn(`connector '${ctx.connector}': account activity not recorded: ${err.message}`);
    } catch {
      // not in an activity (a direct call): nowhere to log
    }
    return undefined;
  }
}

/** The entries under `bases` whose `attribute` is `owner`: one search where the bases share one. */
async function owned(dir: Directory, attribute: string, owner: string): Promise<Entry[]> {
  const bases = [dir.cfg.usersDn];
  if (dir.cfg.disable?.method === 'move') bases.push(dir.cfg.disable.disabledDn);
  const common = bases.reduce<string | undefined>((a, b) => a && parentOfBoth(a, b), bases[0]);
  const filter = `(${attribute}=${escapeFilter(owner)})`;
  const found: Entry[] = [];
  for (const base of common ? [common] : bases) {
    const { searchEntries } = await dir.client.search(base, {
      scope: 'sub',
      filter,
      // the sign-in and password-change times are operational: asked for by name
      attributes: ['*', ...activityAttributes(dir.cfg)],
      paged: true,
    });
    found.push(...searchEntries);
  }
  // a common base may hold other subtrees (service accounts, groups): only accounts count; and
  // the directory matches without case where person ids are exact: only the owner's own value
  return found.filter(
    (e) =>
      bases.some((base) => isUnder(e.dn, base)) && values(e, attribute).some((v) => v === owner),
  );
}

/** The connector op and arguments that carry out `change`. */
function opFor(change: Change, owner: string): [string, Record<string, JsonValue>] {
  const id = change.account;
  switch (change.op) {
    case 'createAccount':
      return ['createAccount', { id, owner, attributes: change.attributes ?? {} }];
    case 'enableAccount':
    case 'disableAccount':
    case 'deleteAccount':
      return [change.op, { id, owner }];
    case 'updateAccount':
      return ['updateAccount', { id, owner, attributes: change.attributes ?? {} }];
    case 'addEntitlement':
      return ['addToGroup', { id, owner, group: change.value as string }];
    case 'removeEntitlement':
      return ['removeFromGroup', { id, owner, group: change.value as string }];
    default: {
      const never: never = change.op;
      throw new Error(`unknown change op ${String(never)}`);
    }
  }
}

/** Reads and changes a person's access on `ldap` connectors. */
export function createLdapAccess(timeoutMs = 30_000): AccessAdapter {
  const bound = <T>(ctx: OpContext, fn: (dir: Directory) => Promise<T>) =>
    withDirectory(ctx, 'readAccess', timeoutMs, fn);

  return {
    async read(ctx, owner, managed): Promise<ActualAccess> {
      const { attribute } = correlationOf(ctx);
      checkManaged(
        ctx,
        KINDS,
        managed.map((m) => m.kind),
      );
      const none: ActualAccess = {
        connector: ctx.connector,
        connectorType: 'ldap',
        entitlements: [],
        unmanaged: 0,
      };
      return bound(ctx, async (dir) => {
        // every managed group in the form the plan compares groups in (the connector type's
        // canonical DN); a DN outside groupsDn is refused here
        const wanted = managed.map((ref): [EntitlementRef, string] => [
          ref,
          groupKey(dir.groupDn(ref.value, ctx.connector), ctx.config),
        ]);
        const entries = await owned(dir, attribute, owner);
        if (entries.length > 1) duplicateOwner(ctx, entries.length, attribute);
        const entry = entries[0];
        if (!entry) return none;
        const held = new Set((await dir.groupsOf(entry.dn)).map((dn) => groupKey(dn, ctx.config)));
        const managedDns = new Set(wanted.map(([, dn]) => dn));
        const view = accountView(dir, entry, []);
        const activity = activityOf(ctx, dir, entry);
        return {
          ...none,
          account: {
            id: view.id,
            targetId: entry.dn,
            enabled: view.enabled,
            attributes: view.attributes,
            ...(activity ? { activity } : {}),
          },
          entitlements: wanted.filter(([, dn]) => held.has(dn)).map(([ref]) => ref),
          unmanaged: [...held].filter((dn) => !managedDns.has(dn)).length,
        };
      });
    },

    async apply(ctx, owner, changes, invoke: InvokeOp): Promise<boolean[]> {
      checkChanges(ctx, changes, KINDS);
      return applyInStages(changes, async (change, index) => {
        const [op, args] = opFor(change, owner);
        return changedBy(await invoke(op, args, index));
      });
    },
  };
}
