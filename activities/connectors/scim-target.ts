/**
 * A SCIM 2.0 service as the `scim` connector talks to it: requests over fetch within the
 * connector's limits, answers checked with zod before use, pagination followed, ETags sent back
 * as If-Match on PUT with one re-read when the service says the version moved on.
 */
import * as z from 'zod';
import type { scim } from '../../src/connectors/scim';
import { connectorFailure } from '../errors';
import { authHeader, credentialsOf, httpCall, type HttpResponse } from './http-client';
import { withinLimits } from './support';
import type { OpContext } from './types';

export type ScimConfig = z.infer<typeof scim.config>;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const ScimUser = z.looseObject({
  id: z.string(),
  userName: z.string(),
  active: z.boolean().optional(),
  meta: z.looseObject({ version: z.string().optional() }).optional(),
});
export type ScimUser = z.infer<typeof ScimUser>;
export const ListResponse = z.looseObject({
  totalResults: z.int().min(0),
  Resources: z.array(z.unknown()).optional(),
  startIndex: z.int().optional(),
  itemsPerPage: z.int().optional(),
});
const ScimGroup = z.looseObject({
  id: z.string(),
  members: z.array(z.looseObject({ value: z.string() })).optional(),
});

/** A string inside a SCIM filter: quoted, with `"` and `\` escaped. */
export function filterString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `body` checked against `schema`; an InvalidResponse naming what is wrong otherwise. */
export function parsed<T>(where: string, schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      .join('; ');
    throw connectorFailure(
      'InvalidResponse',
      `${where}: the target's ${what} is not SCIM (${issues})`,
    );
  }
  return result.data;
}

/** The user's own `schemas`, else the core User schema and the extensions it has attributes of. */
export function schemasOf(user: Record<string, unknown>): string[] {
  if (Array.isArray(user.schemas) && user.schemas.every((x) => typeof x === 'string'))
    return user.schemas;
  return [
    USER_SCHEMA,
    ...Object.keys(user).filter((k) => k.startsWith('urn:') && k !== USER_SCHEMA),
  ];
}

/** One op's conversation with the service: its calls carry the op's name, limits and timeout. */
export class ScimTarget {
  private readonly base: string;

  constructor(
    readonly ctx: OpContext,
    readonly cfg: ScimConfig,
    readonly op: string,
    private readonly timeoutMs: number,
  ) {
    this.base = cfg.baseUrl.replace(/\/+$/, '');
  }

  get where(): string {
    return `${this.ctx.connector}.${this.op}`;
  }

  call(
    method: string,
    path: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      accept?: (s: number) => boolean;
    } = {},
  ): Promise<HttpResponse> {
    return withinLimits(
      this.ctx.connector,
      this.cfg,
      () =>
        httpCall(
          this.where,
          {
            method,
            url: `${this.base}${path}`,
            headers: {
              ...authHeader(this.ctx.connector, this.cfg.auth),
              ...options.headers,
              ...(options.body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
            },
            ...(options.body !== undefined ? { body: options.body } : {}),
            ...(options.accept ? { accept: options.accept } : {}),
            ...(credentialsOf(this.cfg.auth) ? { credentials: credentialsOf(this.cfg.auth) } : {}),
          },
          this.timeoutMs,
        ),
      this.ctx.signal,
    );
  }

  async getUser(id: string): Promise<{ user: ScimUser; etag?: string } | undefined> {
    const res = await this.call('GET', `/Users/${encodeURIComponent(id)}`, {
      accept: (s) => (s >= 200 && s < 300) || s === 404,
    });
    if (res.status === 404) return undefined;
    const user = parsed(this.where, ScimUser, res.body, 'user');
    const etag = res.headers.get('etag') ?? user.meta?.version;
    return { user, ...(etag ? { etag } : {}) };
  }

  async list(filter: string | undefined): Promise<{ users: ScimUser[]; total: number }> {
    const pageSize = this.cfg.pageSize ?? 100;
    const users: ScimUser[] = [];
    for (let start = 1; ;) {
      const query = new URLSearchParams({ startIndex: String(start), count: String(pageSize) });
      if (filter) query.set('filter', filter);
      const res = await this.call('GET', `/Users?${query.toString()}`);
      const page = parsed(this.where, ListResponse, res.body, 'list response');
      const items = (page.Resources ?? []).map((r) => parsed(this.where, ScimUser, r, 'user'));
      users.push(...items);
      if (items.length === 0 || users.length >= page.totalResults)
        return { users, total: page.totalResults };
      start += items.length;
    }
  }

  async findBy(attribute: 'userName' | 'externalId', value: string): Promise<ScimUser | undefined> {
    const { users } = await this.list(`${attribute} eq ${filterString(value)}`);
    return users[0];
  }

  async replace(id: string, user: Record<string, unknown>): Promise<ScimUser> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.getUser(id);
      if (!current) throw connectorFailure('TargetNotFound', `${this.where}: no user ${id}`);
      const res = await this.call('PUT', `/Users/${encodeURIComponent(id)}`, {
        body: { ...user, schemas: schemasOf(user), id },
        headers: current.etag ? { 'if-match': current.etag } : {},
        accept: (s) => (s >= 200 && s < 300) || (s === 412 && attempt === 0),
      });
      if (res.status === 412) continue; // changed since we read it: read again once
      return parsed(this.where, ScimUser, res.body, 'user');
    }
  }

  async patch(id: string, operations: unknown[]): Promise<ScimUser | undefined> {
    const res = await this.call('PATCH', `/Users/${encodeURIComponent(id)}`, {
      body: { schemas: [PATCH_SCHEMA], Operations: operations },
    });
    return res.status === 204 ? undefined : parsed(this.where, ScimUser, res.body, 'user');
  }

  async groupMembers(groupId: string): Promise<string[]> {
    const res = await this.call('GET', `/Groups/${encodeURIComponent(groupId)}?attributes=members`);
    return (parsed(this.where, ScimGroup, res.body, 'group').members ?? []).map((m) => m.value);
  }

  async patchGroup(groupId: string, operations: unknown[]): Promise<void> {
    await this.call('PATCH', `/Groups/${encodeURIComponent(groupId)}`, {
      body: { schemas: [PATCH_SCHEMA], Operations: operations },
    });
  }
}
