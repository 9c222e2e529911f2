/**
 * Directory primitives for the `ldap` connector: a bound connection per op, escaping, and the
 * `Directory` that finds accounts by the configured id attribute anywhere under the base of
 * usersDn and the disabled OU (so an account moved on disable is still found), reads their
 * state and owner, and converges attributes and group memberships.
 */
import { Attribute, Change, Client, ResultCodeError, type Entry } from 'ldapts';
import type * as z from 'zod';
import type { ldap } from '../../src/connectors/ldap';
import { connectorFailure } from '../errors';
import { secretOf, tlsOptions } from './support';

export type LdapConfig = z.infer<typeof ldap.config>;
export type Value = string | number | boolean | Array<string | number>;

export const ACCOUNTDISABLE = 0x2;
export const NORMAL_ACCOUNT = 0x200;

/** Attributes that hold credentials: never returned to a flow, whatever a search asks for. */
export const SECRET_ATTRIBUTE =
  /pass|pwd|secret|privatekey|krbprincipalkey|supplementalcredentials|ms-mcs-admpwd/i;

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

/** Attribute values as LDAP takes them: strings, no empty ones. */
export function strings(value: Value): string[] {
  const list = Array.isArray(value) ? value : [value];
  // LDAP has no empty values: an empty string means "no value" (left out, or removed)
  return list
    .map((v) => (typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v)))
    .filter((v) => v !== '');
}

/** The values of `attribute` (any case) in `entry`, as strings. */
export function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const raw = key === undefined ? [] : entry[key];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/**
 * A connection bound for one op, closed after it. A connection kept across calls would, after a
 * drop, be reconnected by ldapts without its bind — and read as an anonymous client that sees
 * nothing; one per op costs a TCP connect and a bind, and can never act unbound.
 */
export async function connect(
  connector: string,
  cfg: LdapConfig,
  timeoutMs: number,
): Promise<Client> {
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
/** One bound connection to the directory, with the connector's settings applied. */
export class Directory {
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

  /**
   * The account named `id`; with `owner` (where the connector records owners), only that
   * person's account of that name — a name is not unique in a directory, an owner is.
   */
  async find(id: string, owner?: string): Promise<Entry | undefined> {
    const attribute = owner === undefined ? undefined : this.cfg.correlation?.attribute;
    const byId = `(${this.idAttribute}=${escapeFilter(id)})`;
    const filter = attribute ? `(&${byId}(${attribute}=${escapeFilter(owner as string)}))` : byId;
    for (const base of this.searchBases()) {
      const { searchEntries } = await this.client.search(base, {
        scope: 'sub',
        filter,
        attributes: ['*'],
        ...(attribute ? { paged: true } : { sizeLimit: 2 }),
      });
      // the directory matches without case where person ids are exact
      const found = attribute
        ? searchEntries.find((e) => values(e, attribute).includes(owner as string))
        : searchEntries[0];
      if (found) return found;
    }
    return undefined;
  }

  /** Entries under usersDn (and the disabled OU) whose `attribute` equals `value`. */
  async findAll(attribute: string, value: string): Promise<Entry[]> {
    return this.searchAll(`(${attribute}=${escapeFilter(value)})`, ['*']);
  }

  /** The ids among `ids` that an account already has (lower case: ids match without case). */
  async taken(ids: string[]): Promise<Set<string>> {
    const filter = `(|${ids.map((id) => `(${this.idAttribute}=${escapeFilter(id)})`).join('')})`;
    const entries = await this.searchAll(filter, [this.idAttribute]);
    return new Set(entries.flatMap((e) => values(e, this.idAttribute).map((v) => v.toLowerCase())));
  }

  private async searchAll(filter: string, attributes: string[]): Promise<Entry[]> {
    const found: Entry[] = [];
    for (const base of this.searchBases()) {
      const { searchEntries } = await this.client.search(base, {
        scope: 'sub',
        filter,
        attributes,
        paged: true,
      });
      found.push(...searchEntries);
    }
    return found;
  }

  async mustFind(id: string, op: string, connector: string, owner?: string): Promise<Entry> {
    const entry = await this.find(id, owner);
    if (entry) return entry;
    if (owner !== undefined && this.cfg.correlation && (await this.find(id))) {
      throw connectorFailure(
        'TargetConflict',
        `${connector}.${op}: account ${this.idAttribute}=${id} belongs to someone else (its ${this.cfg.correlation.attribute} is not the owner's); it was left unchanged`,
      );
    }
    throw connectorFailure(
      'TargetNotFound',
      `${connector}.${op}: no account ${this.idAttribute}=${id} under ${this.searchBases().join(' or ')}`,
    );
  }

  /** A group's cn under groupsDn, or a DN — accepted only below groupsDn, never elsewhere. */
  groupDn(group: string, connector: string): string {
    const norm = (dn: string) =>
      dn
        .replace(/\s*,\s*/g, ',')
        .replace(/\s*=\s*/g, '=')
        .toLowerCase();
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

/** An account as idflow hands it to flows: no credential attributes. */
export function accountView(dir: Directory, entry: Entry, groups: string[]) {
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
