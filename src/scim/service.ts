/**
 * idflow's SCIM service: the users a source pushes, and the events they become. Every write runs
 * in one transaction that locks the user's row, computes the new resource and version, sends
 * the event through the same path as `POST /v1/events` (EventService.submit: durable in
 * Temporal, deduplicated, ordered per person by the timeline), then writes the row and its
 * audit entry. When the event cannot be sent (Temporal down: 503) nothing is written, so the
 * client's retry finds the user as it was.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../dsl/hash';
import type { Database } from '../db/client';
import type { ScimMappingIR } from '../dsl/ir';
import type { Principal } from '../gateway/services/tokens';
import { ScimProblem } from './errors';
import { parseFilter } from './filter';
import { applyPatch } from './patch';
import { parsePatchRequest } from './patch-request';
import { coerceUser } from './resource';
import { extensionUrnsOf, userSchemas, type UserSchemas } from './schema';
import { MAX_PAGE_SIZE } from './discovery';
import { findScimUser, listScimUsers, personIdOfScimUser, type ScimUserRow } from './repository';
import { userQueryOf } from './user-query';
import { ScimWriter, type EventSubmitter } from './writer';

type Json = Record<string, unknown>;

/** A token's SCIM identity: its source, that source's mapping and schemas, who it is. */
export interface ScimCaller {
  source: string;
  mapping: ScimMappingIR;
  schemas: UserSchemas;
  /** For the audit trail: `token:<name>`. */
  actor: string;
  /** Counts a write against the source's rate limit; throws the 429 when it is over. */
  admit: () => Promise<void>;
}

/** The active Source definitions, as the service reads them (ActiveSources). */
export interface SourceLookup {
  get(name: string): Promise<{ scim?: ScimMappingIR } | undefined>;
}

export interface ScimServiceOptions {
  now?: () => Date;
}

/** `W/"<version>"`: the ETag of a user's version. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** The user as SCIM answers it: the stored resource with its `meta` (`location` is its URL). */
export function userResource(row: ScimUserRow, location: string): Json {
  return {
    ...(row.resource as Json),
    id: row.id,
    meta: {
      resourceType: 'User',
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      location,
      version: etagOf(row.version),
    },
  };
}

/** 412 unless `ifMatch` (an If-Match header) names `version` or is `*`. */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(`"${version}"`)) return;
  throw new ScimProblem(
    412,
    undefined,
    `If-Match names another version than the user's (${etagOf(version)}): read the user again and retry`,
  );
}

/** A positive integer query parameter, or 400 invalidValue naming it. */
function integerParameter(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^-?\d{1,9}$/.test(value.trim()))
    throw new ScimProblem(400, 'invalidValue', `${name} must be an integer`);
  return Number(value.trim());
}

function forbidden(detail: string, principal: Principal): ScimProblem {
  return Object.assign(new ScimProblem(403, undefined, detail), {
    refusal: {
      reason: 'forbidden' as const,
      tokenId: principal.tokenId,
      tokenName: principal.name,
      ...(principal.source ? { source: principal.source } : {}),
    },
  });
}

export class ScimService {
  private readonly writer: ScimWriter;

  constructor(
    private readonly db: Database,
    events: EventSubmitter,
    private readonly sources: SourceLookup,
    options: ScimServiceOptions = {},
  ) {
    this.writer = new ScimWriter(db, events, options.now ?? (() => new Date()));
  }

  /**
   * The caller a token is: 403 unless it is bound to a source whose definition has `scim`.
   * `checkSourceRate` is the source's rate limit, counted for each write once it is understood.
   */
  async caller(
    principal: Principal,
    checkSourceRate?: (source: string) => Promise<void>,
  ): Promise<ScimCaller> {
    const source = principal.source;
    if (source === undefined)
      throw forbidden(
        `token '${principal.name}' is bound to no source, and SCIM users belong to one: create a token for the source, idflow tokens create --name <name> --scopes scim:write --source <source>`,
        principal,
      );
    const mapping = (await this.sources.get(source))?.scim;
    if (!mapping)
      throw forbidden(
        `source '${source}' has no active Source definition with a scim section: add scim: to its definition and apply it (idflow tokens create --scopes scim:write --source <source> binds a token to a source that has one)`,
        principal,
      );
    const paths = [...mapping.person.map((p) => p.path), ...mapping.attributes.map((a) => a.path)];
    return {
      source,
      mapping,
      schemas: userSchemas(extensionUrnsOf(paths)),
      actor: `token:${principal.name}`,
      admit: async () => checkSourceRate?.(source),
    };
  }

  async get(caller: ScimCaller, id: string): Promise<ScimUserRow> {
    const row = await findScimUser(this.db, caller.source, id);
    if (!row) throw notFound();
    return row;
  }

  /** A page of the source's users, filtered (only what `userQueryOf` answers). */
  async list(
    caller: ScimCaller,
    params: { filter?: string; startIndex?: string; count?: string },
  ): Promise<{ total: number; rows: ScimUserRow[]; startIndex: number }> {
    const query = params.filter !== undefined ? userQueryOf(parseFilter(params.filter)) : undefined;
    const startIndex = Math.max(1, integerParameter(params.startIndex, 'startIndex', 1));
    const count = Math.min(
      MAX_PAGE_SIZE,
      Math.max(0, integerParameter(params.count, 'count', MAX_PAGE_SIZE)),
    );
    const page = await listScimUsers(this.db, caller.source, query, startIndex - 1, count);
    return { ...page, startIndex };
  }

  async create(caller: ScimCaller, body: unknown): Promise<ScimUserRow> {
    const resource = coerceUser(body, caller.schemas);
    await caller.admit();
    return this.writer.create(caller, withId(resource, randomUUID()), this.managerOf(caller));
  }

  /** PUT: the whole user replaced by `body`. */
  async replace(caller: ScimCaller, id: string, body: unknown, ifMatch?: string) {
    const resource = coerceUser(body, caller.schemas);
    await caller.admit();
    return this.update(caller, id, ifMatch, () => withId(resource, id));
  }

  /** PATCH: `body`'s operations applied to the stored user, in order. */
  async patch(caller: ScimCaller, id: string, body: unknown, ifMatch?: string) {
    const operations = parsePatchRequest(body, caller.schemas);
    await caller.admit();
    return this.update(caller, id, ifMatch, (row) => {
      const patched = applyPatch(row.resource as Json, operations, caller.schemas);
      return withId(coerceUser(patched, caller.schemas), id);
    });
  }

  async remove(caller: ScimCaller, id: string, ifMatch?: string): Promise<void> {
    await caller.admit();
    await this.db.transaction(async (tx) => {
      const row = await findScimUser(tx, caller.source, id, true);
      if (!row) throw notFound();
      checkIfMatch(ifMatch, row.version);
      await this.writer.remove(tx, caller, row, this.managerOf(caller, tx));
    });
  }

  private async update(
    caller: ScimCaller,
    id: string,
    ifMatch: string | undefined,
    next: (row: ScimUserRow) => Json,
  ): Promise<ScimUserRow> {
    return this.db.transaction(async (t) => {
      const tx = t as unknown as Database;
      const row = await findScimUser(tx, caller.source, id, true);
      if (!row) throw notFound();
      checkIfMatch(ifMatch, row.version);
      const after = next(row);
      // the same user sent again: no new version, no event
      if (canonicalJson(after) === canonicalJson(row.resource)) return row;
      return this.writer.update(tx, caller, row, after, this.managerOf(caller, tx));
    });
  }

  /** A manager named by its SCIM id is the person of that user of the same source. */
  private managerOf(caller: ScimCaller, db: unknown = this.db) {
    return (value: string) => personIdOfScimUser(db as Database, caller.source, value);
  }
}

function notFound(): ScimProblem {
  return new ScimProblem(404, undefined, 'no user of this source has that id');
}

/** The resource with its `id` second, after `schemas`. */
function withId(resource: Json, id: string): Json {
  const { schemas, ...rest } = resource;
  return { schemas, id, ...rest };
}
