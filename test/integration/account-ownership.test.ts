/**
 * One account, one owner, against a real slapd and SCIM service: createAccount and createUser
 * converge only the same person's account; someone else's, or an unowned one unless the
 * connector adopts, is a TargetConflict naming both owners that leaves the account exactly as
 * it was. deriveUsername finds free usernames. SCIM services that answer 201 without an id or
 * 500 for a DELETE of a deleted user still converge.
 */
import { Client as LdapClient } from 'ldapts';
import { createLdapConnector } from '../../activities/connectors/ldap';
import { createScimConnector } from '../../activities/connectors/scim';
import type { OpContext } from '../../activities/connectors/types';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from '../../src/targets/slapd';
import { startScimTarget, type ScimTarget } from '../../src/targets/scim';
import { failure } from '../support/failures';
import { opContext } from '../support/op-context';
import { freePort } from '../support/ports';
import { startQuirkyScim, type QuirkyScim } from '../support/quirky-scim';

const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
const GROUPS = `ou=groups,${LDAP_TARGET.baseDn}`;
const TOKEN = 'ownership-scim-token-5c2a';

let slapd: SlapdTarget;
let scim: ScimTarget;
let quirky: QuirkyScim;
const ldap = createLdapConnector(5_000).ops;
const scimOps = createScimConnector(5_000).ops;

function dirCtx(correlation?: Record<string, unknown>): OpContext {
  return opContext('corp-directory', {
    url: slapd.url,
    bindDn: LDAP_TARGET.bindDn,
    bindPassword: { secretEnv: 'OWN_LDAP_PASSWORD' },
    usersDn: PEOPLE,
    groupsDn: GROUPS,
    userObjectClasses: ['inetOrgPerson', 'adUser'],
    groupObjectClass: 'adGroup',
    disable: { method: 'userAccountControl' },
    ...(correlation ? { correlation } : {}),
  });
}

function scimCtx(correlation?: Record<string, unknown>, baseUrl = scim.url): OpContext {
  return opContext('crm', {
    baseUrl,
    auth: { type: 'bearer', token: { secretEnv: 'OWN_SCIM_TOKEN' } },
    ...(correlation ? { correlation } : {}),
  });
}

const OWNED = { attribute: 'employeeNumber' };

/** Every user and operational attribute of an entry, and its groups: what "unchanged" means. */
async function snapshot(uid: string): Promise<string> {
  const client = new LdapClient({ url: slapd.url });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(PEOPLE, {
      scope: 'sub',
      filter: `(uid=${uid})`,
      attributes: ['*', '+'],
    });
    const groups = await client.search(GROUPS, {
      scope: 'sub',
      filter: `(member=uid=${uid},${PEOPLE})`,
      attributes: ['cn'],
    });
    return JSON.stringify({ entries: searchEntries, groups: groups.searchEntries });
  } finally {
    await client.unbind();
  }
}

/** An entry nobody owns, made outside idflow (a hand-made account, a migration leftover). */
async function addUnowned(uid: string): Promise<void> {
  const client = new LdapClient({ url: slapd.url });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    await client.add(`uid=${uid},${PEOPLE}`, {
      objectClass: ['inetOrgPerson'],
      uid,
      cn: 'Hand Made',
      sn: 'Made',
    });
  } finally {
    await client.unbind();
  }
}

beforeAll(async () => {
  process.env.OWN_LDAP_PASSWORD = LDAP_TARGET.bindPassword;
  process.env.OWN_SCIM_TOKEN = TOKEN;
  slapd = await startSlapd({ port: await freePort() });
  scim = await startScimTarget({ token: TOKEN });
  quirky = await startQuirkyScim(scim.url);
});

afterAll(async () => {
  await quirky?.stop();
  await scim?.stop();
  await slapd?.stop();
});

describe('ldap createAccount', () => {
  test("someone else's account is a TargetConflict naming both owners, and stays byte for byte", async () => {
    const c = dirCtx(OWNED);
    await ldap.createAccount(
      {
        id: 'jsmith',
        owner: 'p-1',
        attributes: { cn: 'John Smith', sn: 'Smith', mail: 'john@example.com' },
        groups: ['all-staff', 'engineering'],
      },
      c,
    );
    const before = await snapshot('jsmith');
    const err = await failure(
      ldap.createAccount(
        {
          id: 'jsmith',
          owner: 'p-2',
          attributes: { cn: 'Jane Smith', sn: 'Smith', mail: 'jane@example.com' },
          groups: ['finance'],
        },
        c,
      ),
    );
    expect(err.type).toBe('TargetConflict');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe(
      'corp-directory.createAccount: uid=jsmith belongs to employeeNumber p-1, not to employeeNumber p-2; it was left unchanged',
    );
    expect(err.message).not.toMatch(/John|Jane|example\.com/);
    expect(await snapshot('jsmith')).toBe(before);
    // the same person again converges
    expect(
      await ldap.createAccount(
        {
          id: 'jsmith',
          owner: 'p-1',
          attributes: { cn: 'John Smith', sn: 'Smith', mail: 'john@example.com' },
          groups: ['all-staff', 'engineering'],
        },
        c,
      ),
    ).toEqual({ dn: `uid=jsmith,${PEOPLE}`, created: false, changed: false });
  });

  test('an unowned account is refused, unless the connector adopts unowned accounts', async () => {
    await addUnowned('handmade');
    const before = await snapshot('handmade');
    const args = { id: 'handmade', owner: 'p-7', attributes: { cn: 'Hana Made', sn: 'Made' } };
    const refused = await failure(ldap.createAccount(args, dirCtx(OWNED)));
    expect(refused.type).toBe('TargetConflict');
    expect(refused.message).toContain('uid=handmade exists with no employeeNumber');
    expect(refused.message).toContain('p-7');
    expect(refused.message).toContain('adoptUnowned');
    expect(
      await failure(ldap.createAccount(args, dirCtx({ ...OWNED, adoptUnowned: false }))),
    ).toMatchObject({ type: 'TargetConflict' });
    expect(await snapshot('handmade')).toBe(before);

    const adopted = await ldap.createAccount(args, dirCtx({ ...OWNED, adoptUnowned: true }));
    expect(adopted).toMatchObject({ created: false, changed: true });
    const got = await ldap.getAccount({ id: 'handmade' }, dirCtx(OWNED));
    expect(got.account?.attributes).toMatchObject({ employeeNumber: 'p-7', cn: 'Hana Made' });
    // adopted, it is p-7's: another person is refused
    const other = await failure(
      ldap.createAccount({ ...args, owner: 'p-8' }, dirCtx({ ...OWNED, adoptUnowned: true })),
    );
    expect(other.message).toContain('belongs to employeeNumber p-7, not to employeeNumber p-8');
  });

  test('without config.correlation an existing account is never converged', async () => {
    await addUnowned('nocorr');
    const before = await snapshot('nocorr');
    const err = await failure(
      ldap.createAccount({ id: 'nocorr', attributes: { cn: 'X Y', sn: 'Y' } }, dirCtx()),
    );
    expect(err.type).toBe('TargetConflict');
    expect(err.message).toContain('without config.correlation');
    expect(await snapshot('nocorr')).toBe(before);
  });

  test('the owner is required with correlation; the attributes cannot name another owner', async () => {
    const missing = await failure(
      ldap.createAccount({ id: 'noowner', attributes: { cn: 'N O', sn: 'O' } }, dirCtx(OWNED)),
    );
    expect(missing).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
    expect(missing.message).toContain('owner is required');
    const twoOwners = await failure(
      ldap.createAccount(
        { id: 'noowner', owner: 'p-1', attributes: { cn: 'N O', sn: 'O', employeeNumber: 'p-2' } },
        dirCtx(OWNED),
      ),
    );
    expect(twoOwners.type).toBe('InvalidRequest');
    expect((await ldap.getAccount({ id: 'noowner' }, dirCtx(OWNED))).found).toBe(false);
  });

  test('updateAccount never changes the owner attribute; the account stays as it was', async () => {
    const c = dirCtx(OWNED);
    await ldap.createAccount(
      { id: 'owned-upd', owner: 'p-931', attributes: { cn: 'O U', sn: 'U' } },
      c,
    );
    const before = await snapshot('owned-upd');
    for (const key of ['employeeNumber', 'EMPLOYEENUMBER']) {
      const err = await failure(
        ldap.updateAccount({ id: 'owned-upd', attributes: { cn: 'X', [key]: 'p-932' } }, c),
      );
      expect(err).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
      expect(err.message).toContain('employeeNumber records the account');
    }
    expect(await snapshot('owned-upd')).toBe(before);
    // other attributes still update
    expect(
      await ldap.updateAccount({ id: 'owned-upd', attributes: { title: 'T' } }, c),
    ).toMatchObject({
      changed: true,
    });
  });
});

describe('ldap deriveUsername', () => {
  test('jsmith, jsmith2, jsmith3 …; the person keeps their own; unowned names are skipped', async () => {
    const c = dirCtx(OWNED);
    const derive = (owner: string, givenName: string, familyName: string) =>
      ldap.deriveUsername({ givenName, familyName, owner }, c);
    expect(await derive('p-21', 'Alan', 'Turing')).toEqual({
      username: 'aturing',
      existing: false,
    });
    await ldap.createAccount(
      { id: 'aturing', owner: 'p-21', attributes: { cn: 'A T', sn: 'Turing' } },
      c,
    );
    expect(await derive('p-21', 'Alan', 'Turing')).toEqual({ username: 'aturing', existing: true });
    expect(await derive('p-22', 'Anne', 'Turing')).toEqual({
      username: 'aturing2',
      existing: false,
    });
    await ldap.createAccount(
      { id: 'aturing2', owner: 'p-22', attributes: { cn: 'A T', sn: 'Turing' } },
      c,
    );
    await addUnowned('aturing3');
    expect(await derive('p-23', 'Ada', 'Turing')).toEqual({
      username: 'aturing4',
      existing: false,
    });
    // the person's own account wins, even after the name changed
    expect(await derive('p-22', 'Anne', 'Turing-Lee')).toEqual({
      username: 'aturing2',
      existing: true,
    });
  });

  test('names are sanitised; nothing usable falls back to the person id', async () => {
    const c = dirCtx(OWNED);
    expect(
      await ldap.deriveUsername({ givenName: 'John', familyName: 'Smith, Jr', owner: 'p-31' }, c),
    ).toEqual({ username: 'jsmithjr', existing: false });
    expect(
      await ldap.deriveUsername({ givenName: 'Zoë', familyName: 'Ørsted*()', owner: 'p-32' }, c),
    ).toEqual({ username: 'zorsted', existing: false });
    expect(
      await ldap.deriveUsername({ givenName: '太郎', familyName: '山田', owner: 'p-33' }, c),
    ).toEqual({ username: 'p-33', existing: false });
    expect(
      await ldap.deriveUsername(
        { givenName: 'Maximilian', familyName: 'Wolfeschlegelstein', owner: 'p-34', maxLength: 8 },
        c,
      ),
    ).toEqual({ username: 'mwolfesc', existing: false });
  });

  test('needs config.correlation', async () => {
    const err = await failure(
      ldap.deriveUsername({ givenName: 'A', familyName: 'B', owner: 'p-1' }, dirCtx()),
    );
    expect(err.type).toBe('ConnectorNotConfigured');
    expect(err.message).toContain('config.correlation');
  });
});

describe('scim createUser', () => {
  const EXTERNAL = { attribute: 'externalId' };

  test("someone else's user is a TargetConflict naming both owners, and stays as it was", async () => {
    const c = scimCtx(EXTERNAL);
    const { user } = await scimOps.createUser(
      { owner: 'p-1', user: { userName: 'jsmith', displayName: 'John Smith', active: true } },
      c,
    );
    expect(user.externalId).toBe('p-1');
    const before = JSON.stringify(scim.users.get(user.id));
    const err = await failure(
      scimOps.createUser(
        { owner: 'p-2', user: { userName: 'jsmith', displayName: 'Jane Smith', active: true } },
        c,
      ),
    );
    expect(err).toMatchObject({ type: 'TargetConflict', nonRetryable: true });
    expect(err.message).toBe(
      `crm.createUser: user ${user.id} belongs to externalId p-1, not to externalId p-2; it was left unchanged`,
    );
    expect(JSON.stringify(scim.users.get(user.id))).toBe(before);
    // the same person again converges
    const again = await scimOps.createUser(
      { owner: 'p-1', user: { userName: 'jsmith', displayName: 'John Smith', active: true } },
      c,
    );
    expect(again).toMatchObject({ created: false, user: { id: user.id, externalId: 'p-1' } });
  });

  test('an unowned user is refused unless the connector adopts; without correlation, refused', async () => {
    const { user } = await scimOps.createUser({ user: { userName: 'legacy' } }, scimCtx());
    const before = JSON.stringify(scim.users.get(user.id));
    const args = { owner: 'p-9', user: { userName: 'legacy', displayName: 'L' } };
    const refused = await failure(scimOps.createUser(args, scimCtx(EXTERNAL)));
    expect(refused.type).toBe('TargetConflict');
    expect(refused.message).toContain(`user ${user.id} exists with no externalId`);
    const blind = await failure(scimOps.createUser({ user: args.user }, scimCtx()));
    expect(blind.message).toContain('without config.correlation');
    expect(JSON.stringify(scim.users.get(user.id))).toBe(before);
    const adopted = await scimOps.createUser(args, scimCtx({ ...EXTERNAL, adoptUnowned: true }));
    expect(adopted).toMatchObject({ created: false, user: { id: user.id, externalId: 'p-9' } });
  });

  test('replaceUser and patchUser never change or drop the owner', async () => {
    const c = scimCtx(EXTERNAL);
    const { user } = await scimOps.createUser(
      { owner: 'p-41', user: { userName: 'owned-scim', displayName: 'O S', active: true } },
      c,
    );
    const before = JSON.stringify(scim.users.get(user.id));
    const refusals = [
      () =>
        scimOps.replaceUser(
          { id: user.id, user: { userName: 'owned-scim', externalId: 'p-42' } },
          c,
        ),
      () =>
        scimOps.patchUser(
          { id: user.id, operations: [{ op: 'replace', path: 'externalId', value: 'p-42' }] },
          c,
        ),
      () =>
        scimOps.patchUser({ id: user.id, operations: [{ op: 'remove', path: 'externalId' }] }, c),
      () =>
        scimOps.patchUser(
          { id: user.id, operations: [{ op: 'replace', value: { externalId: 'p-42' } }] },
          c,
        ),
    ];
    for (const refused of refusals) {
      const err = await failure(refused());
      expect(err).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
      expect(err.message).toMatch(/externalId .*records the (user's )?owner/);
    }
    expect(JSON.stringify(scim.users.get(user.id))).toBe(before);
    // a replacement that leaves the owner out keeps it
    const replaced = await scimOps.replaceUser(
      { id: user.id, user: { userName: 'owned-scim', displayName: 'O S2', active: true } },
      c,
    );
    expect(replaced.user).toMatchObject({ externalId: 'p-41', displayName: 'O S2' });
  });

  test('a 201 without the id: the user is found by userName, and must be the owner’s', async () => {
    quirky.quirks.createdWithoutId = true;
    try {
      const c = scimCtx(EXTERNAL, quirky.url);
      const created = await scimOps.createUser(
        { owner: 'p-40', user: { userName: 'noid', active: true } },
        c,
      );
      expect(created.created).toBe(true);
      expect(created.user).toMatchObject({ userName: 'noid', externalId: 'p-40' });
      expect(scim.users.get(created.user.id)?.externalId).toBe('p-40');
    } finally {
      quirky.quirks.createdWithoutId = false;
    }
  });

  test('a 500 on DELETE of a deleted user converges; of a present one it stays a retryable failure', async () => {
    const c = scimCtx(EXTERNAL, quirky.url);
    const { user } = await scimOps.createUser({ owner: 'p-41', user: { userName: 'gone' } }, c);
    quirky.quirks.deleteGoneAs500 = true;
    try {
      expect(await scimOps.deleteUser({ id: user.id }, c)).toEqual({ deleted: true });
      expect(await scimOps.deleteUser({ id: user.id }, c)).toEqual({ deleted: false });
    } finally {
      quirky.quirks.deleteGoneAs500 = false;
    }
    const { user: kept } = await scimOps.createUser(
      { owner: 'p-42', user: { userName: 'kept' } },
      c,
    );
    quirky.quirks.deleteAlways500 = true;
    try {
      const err = await failure(scimOps.deleteUser({ id: kept.id }, c));
      expect(err).toMatchObject({ type: 'TargetUnavailable', nonRetryable: false });
      expect(scim.users.has(kept.id)).toBe(true);
    } finally {
      quirky.quirks.deleteAlways500 = false;
    }
  });
});
