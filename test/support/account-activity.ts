/**
 * Accounts with sign-in and password-change times, for tests of what idflow does with them
 * (dormant accounts, stale passwords). `authTimestamp` and `pwdChangedTime` are operational
 * (NO-USER-MODIFICATION) in slapd, but both are manageable: the service account, which has
 * `manage` access in the test target, writes them on add with the Relax Rules control. So
 * `seedLdapAccounts` adds entries with their times in one add each, many at a time;
 * `recordSeededAccounts` gives idflow the account records a reconcile would have made.
 */
import { Client, Control } from 'ldapts';
import type { Database } from '../../src/db/client';
import { accounts } from '../../src/db/schema';
import { formatGeneralizedTime } from '../../activities/connectors/ldap-times';
import { LDAP_TARGET } from '../../src/targets/slapd';

/** RFC 4511 control that lets a `manage` client write NO-USER-MODIFICATION attributes. */
export const RELAX_RULES_OID = '1.3.6.1.4.1.4203.666.5.12';

/** One account to seed. Times left out are left out of the entry (never signed in, …). */
export interface SeedAccount {
  uid: string;
  /** The owner's person id, in the owner attribute (the connector's correlation attribute). */
  owner: string;
  lastLoginAt?: Date;
  passwordChangedAt?: Date;
  /** A password to bind with; without one the entry has none (and ppolicy records no time). */
  password?: string;
}

export interface SeedOptions {
  /** Where the entries go; default ou=people of the test target. */
  usersDn?: string;
  /** The correlation attribute; default employeeNumber, as the reference connector has it. */
  ownerAttribute?: string;
  /** Adds in flight at once, spread over as many connections; default 16. */
  concurrency?: number;
}

/** The entry idflow's ldap connector would have created, with its times as slapd keeps them. */
function entryOf(account: SeedAccount, ownerAttribute: string): Record<string, string[]> {
  return {
    objectClass: ['inetOrgPerson', 'adUser'],
    uid: [account.uid],
    cn: [account.uid],
    sn: [account.uid],
    sAMAccountName: [account.uid],
    userAccountControl: ['512'],
    [ownerAttribute]: [account.owner],
    ...(account.password ? { userPassword: [account.password] } : {}),
    ...(account.lastLoginAt
      ? { authTimestamp: [formatGeneralizedTime(whole(account.lastLoginAt))] }
      : {}),
    ...(account.passwordChangedAt
      ? { pwdChangedTime: [formatGeneralizedTime(whole(account.passwordChangedAt))] }
      : {}),
  };
}

/** slapd keeps these times to the second: a fraction would be refused by ppolicy's parser. */
function whole(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * Adds `accounts` to the directory at `url` as the test target's service account, each with
 * its times, `concurrency` adds at a time over as many connections (10,000 accounts take a few
 * seconds). Entries that exist already are an error: seed under fresh uids.
 */
export async function seedLdapAccounts(
  url: string,
  list: readonly SeedAccount[],
  options: SeedOptions = {},
): Promise<void> {
  const usersDn = options.usersDn ?? `ou=people,${LDAP_TARGET.baseDn}`;
  const ownerAttribute = options.ownerAttribute ?? 'employeeNumber';
  const relax = new Control(RELAX_RULES_OID, { critical: true });
  const lanes = Math.max(1, Math.min(options.concurrency ?? 16, list.length));
  let next = 0;
  const lane = async () => {
    const client = new Client({ url, timeout: 30_000 });
    try {
      await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
      while (next < list.length) {
        const account = list[next++] as SeedAccount;
        await client.add(`uid=${account.uid},${usersDn}`, entryOf(account, ownerAttribute), relax);
      }
    } finally {
      await client.unbind().catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * idflow's records of `list` on `connector`, as a reconcile that read them would leave them
 * (person = owner, enabled, read now; no times recorded yet): inserted a thousand per
 * statement. Returns nothing; the rows are theirs to read.
 */
export async function recordSeededAccounts(
  db: Database,
  connector: string,
  list: readonly Pick<SeedAccount, 'uid' | 'owner'>[],
  usersDn = `ou=people,${LDAP_TARGET.baseDn}`,
): Promise<void> {
  const now = new Date();
  for (let i = 0; i < list.length; i += 1000) {
    await db.insert(accounts).values(
      list.slice(i, i + 1000).map((a) => ({
        personId: a.owner,
        connector,
        accountName: a.uid,
        targetId: `uid=${a.uid},${usersDn}`,
        status: 'enabled',
        lastReadAt: now,
      })),
    );
  }
}

/** The two times the entry `uid=<uid>` holds now, as slapd writes them (absent: none held). */
export async function seededTimes(
  url: string,
  uid: string,
  usersDn = `ou=people,${LDAP_TARGET.baseDn}`,
): Promise<{ authTimestamp?: string; pwdChangedTime?: string }> {
  const client = new Client({ url });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(`uid=${uid},${usersDn}`, {
      scope: 'base',
      attributes: ['authTimestamp', 'pwdChangedTime'],
    });
    const entry = searchEntries[0];
    const one = (name: string) => {
      const value = entry?.[name];
      return typeof value === 'string' ? { [name]: value } : {};
    };
    return { ...one('authTimestamp'), ...one('pwdChangedTime') };
  } finally {
    await client.unbind().catch(() => {});
  }
}
