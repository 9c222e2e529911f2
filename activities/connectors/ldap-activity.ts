/**
 * Accounts' last sign-in and password change, read from the directory: the `readAccountActivity`
 * op (every account under usersDn, a page at a time, each page recorded on idflow's account
 * records in one statement) and the times of one entry, for reconcile's read. Where the times
 * live and how they are written is `config.activity` (src/connectors/ldap.ts).
 */
import { Context } from '@temporalio/activity';
import type { Entry } from 'ldapts';
import { activitySettings } from '../../src/connectors/ldap';
import type { Database } from '../../src/db/client';
import { recordActivityPage, type AccountActivityRow } from '../../src/db/repos/account-activity';
import { connectorFailure, databaseFailure } from '../errors';
import type { Directory } from './ldap-directory';
import { values } from './ldap-directory';
import { MalformedTimeError, parseActivityTime } from './ldap-times';
import type { OpContext } from './types';

/** Entries per page (and per database statement) unless the call says otherwise. */
export const DEFAULT_ACTIVITY_PAGE = 500;

/** An account's two times as its entry holds them: null where it holds none (or "never"). */
export interface EntryActivity {
  lastLoginAt: Date | null;
  passwordChangedAt: Date | null;
}

/** The attributes to ask for so an entry comes back with its times (both are operational). */
export function activityAttributes(config: Directory['cfg']): string[] {
  const { lastLogin, passwordChanged } = activitySettings(config);
  return [lastLogin, passwordChanged];
}

/**
 * The times `entry` holds, parsed as `config.activity` says. Throws MalformedTimeError (naming
 * the attribute, never the value) for a value that is not a time of that format, or for an
 * attribute with several values.
 */
export function entryActivity(config: Directory['cfg'], entry: Entry): EntryActivity {
  const { lastLogin, passwordChanged, format } = activitySettings(config);
  const one = (attribute: string): Date | null => {
    const held = values(entry, attribute);
    if (held.length === 0) return null;
    if (held.length > 1) throw new MalformedTimeError(attribute, format);
    return parseActivityTime(attribute, format, held[0] as string);
  };
  return { lastLoginAt: one(lastLogin), passwordChangedAt: one(passwordChanged) };
}

/** Tells Temporal the op is alive (and lets a cancellation in); nothing outside an activity. */
function heartbeat(details: unknown): void {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}

/**
 * Reads every account under usersDn (and the disabled OU, where disabling moves accounts) with
 * the paged results control, `pageSize` entries at a time, and records each page's times on
 * the connector's account records before the next page is asked for: memory holds one page,
 * whatever the directory's size. An account matches the record of its name, and where the
 * connector records owners, only the record of the person the entry names as its owner (an
 * entry without one is nobody's, so unknown). A malformed time fails the op (InvalidResponse,
 * naming the attribute): a wrong `config.activity.format` shows at once instead of as a
 * directory of unknown times; the pages already recorded stay recorded.
 */
export async function readAccountActivity(
  dir: Directory,
  ctx: OpContext,
  db: Database,
  pageSize = DEFAULT_ACTIVITY_PAGE,
): Promise<{ read: number; updated: number; unknown: number }> {
  const where = `${ctx.connector}.readAccountActivity`;
  const owner = dir.cfg.correlation?.attribute;
  const bases = [dir.cfg.usersDn];
  if (dir.cfg.disable?.method === 'move') bases.push(dir.cfg.disable.disabledDn);
  const attributes = [dir.idAttribute, ...activityAttributes(dir.cfg), ...(owner ? [owner] : [])];
  let read = 0;
  let updated = 0;
  for (const base of bases) {
    const pages = dir.client.searchPaginated(base, {
      scope: 'sub',
      filter: `(${dir.idAttribute}=*)`,
      attributes,
      paged: { pageSize },
    });
    for await (const page of pages) {
      if (ctx.signal?.aborted) throw ctx.signal.reason as Error;
      const rows: AccountActivityRow[] = [];
      for (const entry of page.searchEntries) {
        const name = values(entry, dir.idAttribute)[0];
        if (name === undefined) continue;
        read++;
        let times: EntryActivity;
        try {
          times = entryActivity(dir.cfg, entry);
        } catch (err) {
          if (err instanceof MalformedTimeError)
            throw connectorFailure('InvalidResponse', `${where}: ${err.message}`);
          throw err;
        }
        if (!owner) {
          rows.push({ accountName: name, ...times });
          continue;
        }
        // an entry without exactly one owner is nobody's: it matches no record (unknown)
        const owners = values(entry, owner);
        if (owners.length === 1) rows.push({ accountName: name, owner: owners[0], ...times });
      }
      try {
        updated += await recordActivityPage(db, ctx.connector, rows, new Date());
      } catch (err) {
        throw databaseFailure(`${where}: recording a page`, err, { fromDatabase: true }) ?? err;
      }
      heartbeat({ read, updated });
    }
  }
  return { read, updated, unknown: read - updated };
}
