/**
 * What a test's slapd holds about people, read as the bind user: a person's entries (by the
 * owner attribute, employeeNumber) with their uid and whether they are enabled, and the groups
 * an entry is a member of. For tests that check what the reference flows did in the directory.
 */
import { Client as LdapClient } from 'ldapts';
import type { Targets } from '../../src/targets';
import { LDAP_TARGET } from '../../src/targets/slapd';

const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
const GROUPS = `ou=groups,${LDAP_TARGET.baseDn}`;

export interface DirectoryEntry {
  uid: string;
  enabled: boolean;
}

export interface DirectoryReader {
  /** The entries that belong to the person, with uid and state. */
  entriesOf: (personId: string) => Promise<DirectoryEntry[]>;
  /** The cns of the groups the entry `uid=<uid>` is a member of, sorted. */
  groupsOf: (uid: string) => Promise<string[]>;
}

/** Reads the directory of `targets()` (a function: the targets start in beforeAll). */
export function directoryReader(targets: () => Targets): DirectoryReader {
  const ldap = async <T>(fn: (client: LdapClient) => Promise<T>): Promise<T> => {
    const client = new LdapClient({ url: targets().slapd?.url ?? '' });
    try {
      await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
      return await fn(client);
    } finally {
      await client.unbind();
    }
  };
  return {
    entriesOf: (personId) =>
      ldap(async (c) => {
        const { searchEntries } = await c.search(PEOPLE, {
          scope: 'sub',
          filter: `(employeeNumber=${personId})`,
          attributes: ['uid', 'userAccountControl'],
        });
        return searchEntries.map((e) => ({
          uid: String(e.uid),
          enabled: (Number(e.userAccountControl) & 2) === 0,
        }));
      }),
    groupsOf: (uid) =>
      ldap(async (c) => {
        const { searchEntries } = await c.search(GROUPS, {
          scope: 'sub',
          filter: `(member=uid=${uid},${PEOPLE})`,
          attributes: ['cn'],
        });
        return searchEntries.map((e) => String(e.cn)).sort();
      }),
  };
}
