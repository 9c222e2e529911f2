/**
 * The `ldap` connector's ops over ldapts. Accounts are found by the configured id attribute
 * anywhere under the base of usersDn and the disabled OU, so an account moved on disable is
 * still found. Every op converges: creating an existing account updates it, disabling a
 * disabled one, adding a present member and removing an absent one succeed with
 * `changed: false`. LDAP result codes map to idflow's failure types; the bind password is read
 * from the worker's environment per connection and appears in no error.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Attribute, Change, Client, ResultCodeError, type Entry } from 'ldapts';
import type * as z from 'zod';
import type { ldap } from '../../src/connectors/ldap';
import { connectorFailure } from '../errors';
import { certificateProblem, isNetworkError, secretOf, tlsOptions, withinLimits } from './support';
import type { OpContext } from './types';

export type LdapConfig = z.infer<typeof ldap.config>;
type Ops = typeof ldap.ops;
type Args<K extends keyof Ops> = z.infer<Ops[K]['args']>;
type Result<K extends keyof Ops> = z.infer<Ops[K]['result']>;
type Value = string | number | boolean | Array<string | number>;

const ACCOUNTDISABLE = 0x2;

/** Attributes that hold credentials: never returned to a flow, whatever a search asks for. */
export const SECRET_ATTRIBUTE =
  /pass|pwd|secret|privatekey|krbprincipalkey|supplementalcredentials|ms-mcs-admpwd/i;
const NORMAL_ACCOUNT = 0x200;

/** RFC 4515: a value inside a search filter. */
export function escapeFilter(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514: a value inside a DN. */
export function escapeDn(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

function strings(value: Value): string[] {
  const list = Array.isArray(value) ? value : [value];
  // LDAP has no empty values: an empty string means "no value" (left out, or removed)
  return list
    .map((v) => (typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v)))
    .filter((v) => v !== '');
}

function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const raw = key === undefined ? [] : entry[key];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

function mapError(connector: string, op: string, err: unknown, cfg: LdapConfig): never {
  const where = `${connector}.${op}`;
  if (err instanceof ResultCodeError) {
    const detail = err.message.replace(/\s+/g, ' ').trim();
    switch (err.code) {
      case 49:
        throw connectorFailure(
          'ConnectorAuthFailed',
          `${where}: the directory refused the bind as ${cfg.bindDn} (invalid credentials); check the password in ${cfg.bindPassword.secretEnv}`,
        );
      case 50:
      case 48:
      case 8:
      case 13:
        throw connectorFailure(
          'ConnectorAuthFailed',
          `${where}: ${cfg.bindDn} is not allowed to do this (${detail})`,
        );
      case 32:
        throw connectorFailure('TargetNotFound', `${where}: no such entry (${detail})`);
      case 68:
      case 20:
        throw connectorFailure('TargetConflict', `${where}: already exists (${detail})`);
      case 3:
      case 51:
      case 52:
      case 80:
        throw connectorFailure('TargetUnavailable', `${where}: the directory is busy (${detail})`);
      default:
        throw connectorFailure('InvalidRequest', `${where}: the directory refused it (${detail})`);
    }
  }
  const untrusted = certificateProblem(err);
  if (untrusted) {
    throw connectorFailure(
      'ConnectorAuthFailed',
      `${where}: the directory's TLS certificate is not trusted: ${untrusted}; give its CA in config.tls.caFile`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (
    isNetworkError(err) ||
    /timeout/i.test(name + message) ||
    /connection|socket/i.test(message)
  ) {
    throw connectorFailure(
      'TargetUnavailable',
      `${where}: cannot reach the directory at ${cfg.url} (${message})`,
    );
  }
  // what remains is ours: a filter that does not parse, a value the client cannot encode
  throw connectorFailure('InvalidRequest', `${where}: ${message}`);
}

/**
 * A connection bound for one op, closed after it. A connection kept across calls would, after a
 * drop, be reconnected by ldapts without its bind — and read as an anonymous client that sees
 * nothing; one per op costs a TCP connect and a bind, and can never act unbound.
 */
async function connect(connector: string, cfg: LdapConfig, timeoutMs: number): Promise<Client> {
  const password = secretOf(connector, 'bindPassword', cfg.bindPassword);
  let tls;
  try {
    tls = tlsOptions(cfg.tls);
  } catch (err) {
    throw connectorFailure(
      'ConnectorNotConfigured',
      `connector '${connector}': cannot read config.tls.caFile (${(err as { code?: string }).code ?? String(err)})`,
    );
  }
  const client = new Client({
    url: cfg.url,
    timeout: timeoutMs,
    connectTimeout: Math.min(timeoutMs, 10_000),
    ...(cfg.url.startsWith('ldaps:') ? { tlsOptions: tls } : {}),
  });
  try {
    if (cfg.startTls) await client.startTLS(tls);
    await client.bind(cfg.bindDn, password);
  } catch (err) {
    await client.unbind().catch(() => {});
    throw err;
  }
  return client;
}

class Directory {
  readonly idAttribute: string;
  readonly member: string;
  readonly groupClass: string;

  constructor(
    readonly client: Client,
    readonly cfg: LdapConfig,
  ) {
    this.idAttribute = cfg.idAttribute ?? 'uid';
    this.member = cfg.memberAttribute ?? 'member';
    this.groupClass = cfg.groupObjectClass ?? 'groupOfNames';
  }

  private searchBases(): string[] {
    const bases = [this.cfg.usersDn];
    if (this.cfg.disable?.method === 'move') bases.push(this.cfg.disable.disabledDn);
    return bases;
  }

  async find(id: string): Promise<Entry | undefined> {
    for (const base of this.searchBases()) {
      const { searchEntries } = await this.client.search(base, {
        scope: 'sub',
        filter: `(${this.idAttribute}=${escapeFilter(id)})`,
        attributes: ['*'],
        sizeLimit: 2,
      });
      if (searchEntries[0]) return searchEntries[0];
    }
    return undefined;
  }

  async mustFind(id: string, op: string, connector: string): Promise<Entry> {
    const entry = await this.find(id);
    if (!entry) {
      throw connectorFailure(
        'TargetNotFound',
        `${connector}.${op}: no account ${this.idAttribute}=${id} under ${this.searchBases().join(' or ')}`,
      );
    }
    return entry;
  }

  /** A group's cn under groupsDn, or a DN — accepted only below groupsDn, never elsewhere. */
  groupDn(group: string, connector: string): string {
    const norm = (dn: string) => dn.replace(/\s*,\s*/g, ',').toLowerCase();
    if (!/^[a-z][a-z0-9-]*=/i.test(group)) return `cn=${escapeDn(group)},${this.cfg.groupsDn}`;
    if (!norm(group).endsWith(`,${norm(this.cfg.groupsDn)}`)) {
      throw connectorFailure(
        'InvalidRequest',
        `${connector}: group ${group} is not under ${this.cfg.groupsDn}; groups are names there or DNs below it`,
      );
    }
    return group;
  }

  async groupsOf(dn: string): Promise<string[]> {
    const { searchEntries } = await this.client.search(this.cfg.groupsDn, {
      scope: 'sub',
      filter: `(&(objectClass=${this.groupClass})(${this.member}=${escapeFilter(dn)}))`,
      attributes: ['cn'],
      paged: true,
    });
    return searchEntries.map((e) => e.dn);
  }

  enabled(entry: Entry): boolean {
    const how = this.cfg.disable;
    if (!how) return true;
    if (how.method === 'userAccountControl')
      return (
        (Number(values(entry, 'userAccountControl')[0] ?? NORMAL_ACCOUNT) & ACCOUNTDISABLE) === 0
      );
    if (how.method === 'attribute') return values(entry, how.attribute)[0] !== how.disabledValue;
    return !entry.dn.toLowerCase().endsWith(`,${how.disabledDn.toLowerCase()}`);
  }

  /** Replaces the attributes that differ; true when anything changed. */
  async setAttributes(entry: Entry, attributes: Record<string, Value>): Promise<boolean> {
    const changes: Change[] = [];
    for (const [type, value] of Object.entries(attributes)) {
      const wanted = strings(value);
      const current = values(entry, type);
      const same = wanted.length === current.length && wanted.every((v, i) => v === current[i]);
      if (same) continue;
      changes.push(
        new Change({ operation: 'replace', modification: new Attribute({ type, values: wanted }) }),
      );
    }
    if (changes.length) await this.client.modify(entry.dn, changes);
    return changes.length > 0;
  }

  async isMember(groupDn: string, dn: string): Promise<boolean> {
    const { searchEntries } = await this.client.search(groupDn, {
      scope: 'base',
      filter: `(${this.member}=${escapeFilter(dn)})`,
      attributes: ['cn'],
    });
    return searchEntries.length > 0;
  }

  async membership(
    operation: 'add' | 'delete',
    dn: string,
    group: string,
    connector: string,
  ): Promise<{ group: string; changed: boolean }> {
    const groupDn = this.groupDn(group, connector);
    try {
      await this.client.modify(groupDn, [
        new Change({ operation, modification: new Attribute({ type: this.member, values: [dn] }) }),
      ]);
      return { group: groupDn, changed: true };
    } catch (err) {
      if (!(err instanceof ResultCodeError)) throw err;
      // the desired state already holds: OpenLDAP says 20 (already a member) or 16 (not a
      // member); Active Directory says 68 for a present member and 53 for an absent one
      if (err.code === 20 || err.code === 16) return { group: groupDn, changed: false };
      if (operation === 'add' && err.code === 68) return { group: groupDn, changed: false };
      if (operation === 'delete' && err.code === 53 && !(await this.isMember(groupDn, dn)))
        return { group: groupDn, changed: false };
      throw err;
    }
  }
}

function accountView(dir: Directory, entry: Entry, groups: string[]) {
  const attributes: Record<string, string | string[]> = {};
  for (const key of Object.keys(entry)) {
    if (key === 'dn' || SECRET_ATTRIBUTE.test(key)) continue;
    const v = values(entry, key);
    attributes[key] = v.length === 1 ? (v[0] as string) : v;
  }
  return {
    dn: entry.dn,
    id: values(entry, dir.idAttribute)[0] ?? '',
    enabled: dir.enabled(entry),
    groups,
    attributes,
  };
}

export function createLdapConnector(timeoutMs = 30_000) {
  async function run<T>(
    ctx: OpContext,
    op: string,
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
          if (err instanceof ApplicationFailure) throw err;
          return mapError(ctx.connector, op, err, cfg);
        } finally {
          await client?.unbind().catch(() => {});
        }
      },
      ctx.signal,
    );
  }

  const setEnabled = (id: string, ctx: OpContext, op: string, enable: boolean) =>
    run(ctx, op, async (dir): Promise<{ dn: string; changed: boolean }> => {
      const how = dir.cfg.disable;
      if (!how) {
        throw connectorFailure(
          'InvalidRequest',
          `${ctx.connector}.${op}: the connector has no disable method; set config.disable (userAccountControl, attribute or move)`,
        );
      }
      const entry = await dir.mustFind(id, op, ctx.connector);
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
        const converge = async (existing: Entry) => ({
          dn: existing.dn,
          created: false,
          changed: await dir.setAttributes(existing, a.attributes),
        });
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
          for (const [k, v] of Object.entries(a.attributes)) {
            const list = strings(v);
            if (list.length) entry[k] = list;
          }
          if (dir.cfg.disable?.method === 'userAccountControl' && !('userAccountControl' in entry))
            entry.userAccountControl = [String(NORMAL_ACCOUNT)];
          const rdnValue = entry[rdnAttribute]?.[0];
          if (!rdnValue) {
            throw connectorFailure(
              'InvalidRequest',
              `${ctx.connector}.createAccount: new entries are named by ${rdnAttribute}, which the attributes do not give`,
            );
          }
          const dn = `${rdnAttribute}=${escapeDn(rdnValue)},${dir.cfg.usersDn}`;
          try {
            await dir.client.add(dn, entry);
            outcome = { dn, created: true, changed: true };
          } catch (err) {
            // created meanwhile by someone else: converge that one
            if (!(err instanceof ResultCodeError && err.code === 68)) throw err;
            outcome = await converge(await dir.mustFind(a.id, 'createAccount', ctx.connector));
          }
        }
        const { dn: entryDn, created } = outcome;
        let changed = outcome.changed;
        for (const group of a.groups ?? [])
          changed = (await dir.membership('add', entryDn, group, ctx.connector)).changed || changed;
        return { dn: entryDn, created, changed };
      }),

    updateAccount: (a: Args<'updateAccount'>, ctx: OpContext) =>
      run(ctx, 'updateAccount', async (dir): Promise<Result<'updateAccount'>> => {
        const entry = await dir.mustFind(a.id, 'updateAccount', ctx.connector);
        return { dn: entry.dn, changed: await dir.setAttributes(entry, a.attributes) };
      }),

    disableAccount: (a: Args<'disableAccount'>, ctx: OpContext) =>
      setEnabled(a.id, ctx, 'disableAccount', false),

    enableAccount: (a: Args<'enableAccount'>, ctx: OpContext) =>
      setEnabled(a.id, ctx, 'enableAccount', true),

    deleteAccount: (a: Args<'deleteAccount'>, ctx: OpContext) =>
      run(ctx, 'deleteAccount', async (dir): Promise<Result<'deleteAccount'>> => {
        const entry = await dir.find(a.id);
        if (!entry) return { deleted: false };
        await dir.client.del(entry.dn);
        return { deleted: true };
      }),

    addToGroup: (a: Args<'addToGroup'>, ctx: OpContext) =>
      run(ctx, 'addToGroup', async (dir): Promise<Result<'addToGroup'>> => {
        const entry = await dir.mustFind(a.id, 'addToGroup', ctx.connector);
        return dir.membership('add', entry.dn, a.group, ctx.connector);
      }),

    removeFromGroup: (a: Args<'removeFromGroup'>, ctx: OpContext) =>
      run(ctx, 'removeFromGroup', async (dir): Promise<Result<'removeFromGroup'>> => {
        const entry = await dir.find(a.id);
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
