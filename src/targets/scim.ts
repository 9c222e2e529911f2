/**
 * A SCIM 2.0 application for `idflow dev --with-targets` and the tests: SCIMMY's resources and
 * express routers over an in-memory store of users and groups, on loopback, with bearer-token
 * authentication. Users carry `meta.version` and GET /Users/{id} an ETag; PUT honours If-Match
 * (412 when stale). With a `storeFile` the users and groups outlive the process: loaded at
 * start, written (atomically) after every change. SCIMMY's resource handlers are process-wide,
 * so one process serves one.
 *
 * Two gaps of SCIMMY 1.3.5 under Express 5 are closed here, so the target answers as RFC 7644
 * says: a filter string with escapes (`"a\"b"`, `"a\\b"`) is refused or kept escaped by its
 * lexer, so such strings reach it as placeholders and are put back into the parsed filter; and
 * Express 5 parses `req.query` afresh on every read, which loses the router's numeric
 * `startIndex`/`count` (so every page was the first), so the query is parsed once per request.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

type Stored = Record<string, unknown> & {
  id: string;
  meta: { version: string; created?: string; lastModified?: string };
};

export interface ScimTarget {
  url: string;
  token: string;
  users: Map<string, Stored>;
  groups: Map<string, Stored>;
  /** Requests seen, newest last: method, path, If-Match. */
  requests: Array<{ method: string; path: string; ifMatch?: string }>;
  /** Where users and groups are kept between starts, if anywhere. */
  storeFile?: string;
  /** Answer the next `count` requests (of `method`, if given) with `status` and a non-SCIM body. */
  failNext(
    count: number,
    status: number,
    options?: { headers?: Record<string, string>; method?: string },
  ): void;
  stop(): Promise<void>;
}

let declared: { users: Map<string, Stored>; groups: Map<string, Stored> } | undefined;
/** Called after every change to the users or groups (the running target's persistence). */
let changed: (() => void) | undefined;

/** The store file's shape. */
interface StoreFile {
  users: Stored[];
  groups: Stored[];
}

/** Writes users and groups to `file` atomically: a reader sees the old file or the new one. */
function save(file: string, users: Map<string, Stored>, groups: Map<string, Stored>): void {
  const content: StoreFile = { users: [...users.values()], groups: [...groups.values()] };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** Users and groups saved by an earlier start, or none. */
function load(file: string): StoreFile {
  if (!existsSync(file)) return { users: [], groups: [] };
  let parsed: Partial<StoreFile>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoreFile>;
  } catch (err) {
    throw new Error(
      `the SCIM target's store ${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}); fix or remove it, or start with --reset`,
      { cause: err },
    );
  }
  const valid = (list: unknown): Stored[] =>
    Array.isArray(list)
      ? (list as Stored[]).filter(
          (r) => r && typeof r.id === 'string' && typeof r.meta === 'object',
        )
      : [];
  return { users: valid(parsed.users), groups: valid(parsed.groups) };
}

/** Filter strings that held escapes, by the placeholder SCIMMY's lexer saw instead. */
const literals = new Map<string, string>();

/**
 * `filter` with every string that holds a backslash escape replaced by a placeholder (its
 * decoded value kept in `literals`, dropped by `forget`): SCIMMY's lexer reads no escapes.
 */
function placeholders(filter: string): { filter: string; forget: () => void } {
  const made: string[] = [];
  const out = filter.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, inner: string) => {
    if (!inner.includes('\\')) return whole;
    let value: string;
    try {
      value = JSON.parse(whole) as string;
    } catch {
      return whole; // not a valid string: SCIMMY refuses the filter, as it should
    }
    const key = `idflow-literal-${randomUUID()}`;
    literals.set(key, value);
    made.push(key);
    return `"${key}"`;
  });
  return { filter: out, forget: () => made.forEach((key) => literals.delete(key)) };
}

/** `expression` (SCIMMY's parsed filter) with placeholders replaced by their values. */
function restored(expression: unknown): unknown {
  if (typeof expression === 'string') return literals.get(expression) ?? expression;
  if (Array.isArray(expression)) return expression.map(restored);
  if (expression && typeof expression === 'object')
    return Object.fromEntries(Object.entries(expression).map(([k, v]) => [k, restored(v)]));
  return expression;
}

/** Items matching `filter`, with escaped strings read as the client meant them. */
function matching(filter: { match(items: unknown[]): unknown[] }, items: unknown[]): unknown[] {
  const parsed = [...(filter as unknown as unknown[])];
  const expression = restored(parsed);
  if (JSON.stringify(expression) === JSON.stringify(parsed)) return filter.match(items);
  return new SCIMMY.Types.Filter(expression).match(items);
}

function version(): string {
  return `W/"${randomUUID().slice(0, 8)}"`;
}

function declare(): { users: Map<string, Stored>; groups: Map<string, Stored> } {
  if (declared) return declared;
  const users = new Map<string, Stored>();
  const groups = new Map<string, Stored>();
  const store = (kind: 'User' | 'Group', map: Map<string, Stored>) => ({
    ingress: (resource: { id?: string }, instance: Record<string, unknown>): Stored => {
      if (kind === 'User') {
        const taken = [...map.values()].find(
          (u) =>
            u.id !== resource.id &&
            String(u.userName).toLowerCase() === String(instance.userName).toLowerCase(),
        );
        if (taken) throw new SCIMMY.Types.Error(409, 'uniqueness', 'userName is already taken');
      }
      if (resource.id && !map.has(resource.id))
        throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
      const id = resource.id ?? randomUUID();
      const now = new Date().toISOString();
      const previous = map.get(id);
      const next: Stored = {
        ...(JSON.parse(JSON.stringify(instance)) as Record<string, unknown>),
        id,
        meta: {
          version: version(),
          created: (previous?.meta as { created?: string } | undefined)?.created ?? now,
          lastModified: now,
        },
      };
      map.set(id, next);
      changed?.();
      return next;
    },
    egress: (resource: {
      id?: string;
      filter?: { match(items: unknown[]): unknown[] };
    }): unknown => {
      if (resource.id) {
        const found = map.get(resource.id);
        if (!found) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
        return found;
      }
      const all = [...map.values()];
      return resource.filter ? matching(resource.filter, all) : all;
    },
    degress: (resource: { id?: string }): void => {
      if (!resource.id || !map.delete(resource.id))
        throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
      if (kind === 'User') {
        for (const group of groups.values()) {
          const members = (group.members as Array<{ value: string }> | undefined) ?? [];
          group.members = members.filter((m) => m.value !== resource.id);
        }
      }
      changed?.();
    },
  });
  const u = store('User', users);
  const g = store('Group', groups);
  SCIMMY.Resources.declare(
    SCIMMY.Resources.User.ingress(u.ingress as never)
      .egress(u.egress as never)
      .degress(u.degress as never),
  );
  SCIMMY.Resources.declare(
    SCIMMY.Resources.Group.ingress(g.ingress as never)
      .egress(g.egress as never)
      .degress(g.degress as never),
  );
  declared = { users, groups };
  return declared;
}

/**
 * Starts the SCIM application on 127.0.0.1:`port` (0: any free port) at /scim/v2, empty or with
 * the users and groups of `storeFile`. `groups` are created when they do not exist yet.
 */
export async function startScimTarget(options: {
  port?: number;
  token: string;
  groups?: string[];
  /** Keep users and groups in this JSON file: loaded now, rewritten after every change. */
  storeFile?: string;
}): Promise<ScimTarget> {
  const { users, groups } = declare();
  users.clear();
  groups.clear();
  const { storeFile } = options;
  if (storeFile) {
    const stored = load(storeFile);
    for (const user of stored.users) users.set(user.id, user);
    for (const group of stored.groups) groups.set(group.id, group);
  }
  for (const name of options.groups ?? []) {
    if (!groups.has(name))
      groups.set(name, { id: name, displayName: name, members: [], meta: { version: version() } });
  }
  const persist = storeFile ? () => save(storeFile, users, groups) : undefined;
  if (storeFile) mkdirSync(dirname(storeFile), { recursive: true });
  changed = persist;
  persist?.();
  const requests: ScimTarget['requests'] = [];
  const failures: Array<{ status: number; headers: Record<string, string>; method?: string }> = [];
  const app = express();
  app.use((req, res, next) => {
    // parsed once, so the router's numeric startIndex and count stick (Express 5 re-parses)
    const query = req.query as Record<string, unknown>;
    if (typeof query.filter === 'string') {
      const held = placeholders(query.filter);
      query.filter = held.filter;
      res.once('close', held.forget);
    }
    Object.defineProperty(req, 'query', {
      value: query,
      writable: true,
      configurable: true,
      enumerable: true,
    });
    requests.push({
      method: req.method,
      path: req.path,
      ...(req.header('if-match') ? { ifMatch: req.header('if-match') } : {}),
    });
    const i = failures.findIndex((f) => !f.method || f.method === req.method);
    const failure = i >= 0 ? failures.splice(i, 1)[0] : undefined;
    if (failure) {
      res.status(failure.status).set(failure.headers).json({ detail: 'injected failure' });
      return;
    }
    const m = /^\/scim\/v2\/Users\/([^/]+)$/.exec(req.path);
    const user = m ? users.get(decodeURIComponent(m[1] as string)) : undefined;
    if (user && req.method === 'GET') res.set('ETag', user.meta.version);
    const ifMatch = req.header('if-match');
    if (user && ifMatch && ifMatch !== '*' && ifMatch !== user.meta.version) {
      res.status(412).json({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '412',
        detail: 'the user changed since it was read',
      });
      return;
    }
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
      handler: (req: express.Request) => {
        if (req.header('authorization') !== `Bearer ${options.token}`)
          throw new Error('a valid bearer token is required');
        return 'idflow';
      },
    }) as unknown as express.Router,
  );
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    token: options.token,
    users,
    groups,
    requests,
    ...(storeFile ? { storeFile } : {}),
    failNext(count, status, { headers = {}, method } = {}) {
      for (let i = 0; i < count; i++)
        failures.push({ status, headers, ...(method ? { method } : {}) });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => {
        if (changed === persist) changed = undefined;
      }),
  };
}
