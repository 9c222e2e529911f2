/**
 * The writes of idflow's SCIM service, inside the caller's transaction: the user's event is
 * sent first (EventService.submit, the path of `POST /v1/events`), then the row and its audit
 * entry are written, so a row never says more than the events idflow accepted. An event id is
 * `scim-<id>-v<version>`: a write retried after a failure meets its first attempt's event; when
 * that event was accepted with other content (another time, another body), the write takes the
 * next version instead, so the person's timeline gets a new event and nothing is lost.
 */
import type { Database } from '../db/client';
import { appendAudit } from '../db/repos/audit';
import { ConflictProblem } from '../gateway/problems';
import type { IdentityEvent } from '../model/event';
import { ScimProblem, badRequest } from './errors';
import {
  activeOf,
  ScimMappingError,
  scimEventFor,
  type ScimOutcome,
  type ScimUserState,
  type ScimWrite,
} from './mapping';
import { foldUserName, isRecord } from './resource';
import {
  deleteScimUser,
  insertScimUser,
  lockScimKeys,
  scimClash,
  updateScimUser,
  type ScimUserRow,
} from './repository';
import type { ScimCaller } from './service';

type Json = Record<string, unknown>;
type ManagerLookup = (value: string) => Promise<string | undefined>;

/** What the writer needs of EventService. */
export interface EventSubmitter {
  submit(event: IdentityEvent): Promise<unknown>;
}

/** How many later versions a write tries when its event id was taken by other content. */
const VERSION_TRIES = 3;

/** The columns a resource gives a row (besides the resource itself). */
function columnsOf(resource: Json) {
  const userName = resource.userName as string;
  const emails = Array.isArray(resource.emails) ? resource.emails : [];
  return {
    userName,
    userNameKey: foldUserName(userName),
    externalId: typeof resource.externalId === 'string' ? resource.externalId : null,
    emails: emails
      .map((e) => (isRecord(e) ? e.value : undefined))
      .filter((v): v is string => typeof v === 'string')
      .map((v) => v.toLowerCase()),
    active: activeOf(resource),
  };
}

function stateOf(row: ScimUserRow): ScimUserState {
  return {
    scimId: row.id,
    version: row.version,
    resource: row.resource as Json,
    active: row.active,
    joined: row.joinedAt !== null,
  };
}

function uniqueness(detail: string): ScimProblem {
  return new ScimProblem(409, 'uniqueness', detail);
}

export class ScimWriter {
  constructor(
    private readonly db: Database,
    private readonly events: EventSubmitter,
    private readonly now: () => Date,
  ) {}

  /**
   * The outcome of `write` at the first version from `version` whose event the events path
   * takes (new, or a duplicate of the same content): the event is then durably accepted.
   */
  private async send(
    caller: ScimCaller,
    scimId: string,
    version: number,
    write: ScimWrite,
    resolveManager: ManagerLookup,
  ): Promise<{ outcome: ScimOutcome; version: number; now: Date }> {
    const now = this.now();
    for (let v = version; ; v++) {
      let outcome: ScimOutcome;
      try {
        outcome = await scimEventFor({
          source: caller.source,
          mapping: caller.mapping,
          scimId,
          version: v,
          write,
          now,
          resolveManager,
        });
      } catch (err) {
        if (err instanceof ScimMappingError) throw badRequest('invalidValue', err.message);
        throw err;
      }
      if (!outcome.event) return { outcome, version: v, now };
      try {
        await this.events.submit(outcome.event);
        return { outcome, version: v, now };
      } catch (err) {
        if (!(err instanceof ConflictProblem) || v - version + 1 >= VERSION_TRIES) throw err;
      }
    }
  }

  private async audit(
    tx: Database,
    caller: ScimCaller,
    action: 'created' | 'updated' | 'deleted',
    row: { id: string; personId: string },
    version: number,
    event: IdentityEvent | undefined,
  ): Promise<void> {
    await appendAudit(tx, {
      actor: caller.actor,
      action: `scim.user.${action}`,
      target: `person:${row.personId}`,
      outcome: 'ok',
      detail: {
        source: caller.source,
        scimId: row.id,
        version,
        ...(event ? { event: { id: event.id, type: event.type } } : {}),
      },
      dedupeKey: `scim.user:${caller.source}/${row.id}/v${version}`,
    });
  }

  async create(caller: ScimCaller, resource: Json, managers: ManagerLookup): Promise<ScimUserRow> {
    const id = resource.id as string;
    const write: ScimWrite = { kind: 'create', after: resource };
    // the person id, to claim it: computed again (same result) once the keys are held
    const { personId } = await scimEventFor({
      source: caller.source,
      mapping: caller.mapping,
      scimId: id,
      version: 1,
      write,
      now: this.now(),
      resolveManager: managers,
    }).catch((err: unknown) => {
      throw err instanceof ScimMappingError ? badRequest('invalidValue', err.message) : err;
    });
    const columns = columnsOf(resource);
    return this.db.transaction(async (t) => {
      const tx = t as unknown as Database;
      await lockScimKeys(tx, caller.source, [`u:${columns.userNameKey}`, `p:${personId}`]);
      const clash = await scimClash(tx, caller.source, columns.userNameKey, personId);
      if (clash.userName) throw uniqueness('userName is taken by another user of this source');
      if (clash.person)
        throw uniqueness(
          "another user of this source is the same person (the mapping's person id): update that user instead",
        );
      const sent = await this.send(caller, id, 1, write, managers);
      const row = await insertScimUser(tx, {
        id,
        source: caller.source,
        ...columns,
        personId,
        joinedAt: sent.outcome.joined ? sent.now : null,
        resource,
        version: sent.version,
        createdAt: sent.now,
        updatedAt: sent.now,
      });
      await this.audit(tx, caller, 'created', row, sent.version, sent.outcome.event);
      return row;
    });
  }

  async update(
    tx: Database,
    caller: ScimCaller,
    row: ScimUserRow,
    after: Json,
    managers: ManagerLookup,
  ): Promise<ScimUserRow> {
    const columns = columnsOf(after);
    if (columns.userNameKey !== row.userNameKey) {
      await lockScimKeys(tx, caller.source, [`u:${columns.userNameKey}`]);
      const clash = await scimClash(tx, caller.source, columns.userNameKey, row.personId, row.id);
      if (clash.userName) throw uniqueness('userName is taken by another user of this source');
    }
    const write: ScimWrite = { kind: 'replace', before: stateOf(row), after };
    const sent = await this.send(caller, row.id, row.version + 1, write, managers);
    const updated = await updateScimUser(tx, row.id, {
      ...columns,
      resource: after,
      version: sent.version,
      joinedAt: row.joinedAt ?? (sent.outcome.joined ? sent.now : null),
      updatedAt: sent.now,
    });
    await this.audit(tx, caller, 'updated', updated, sent.version, sent.outcome.event);
    return updated;
  }

  async remove(
    tx: Database,
    caller: ScimCaller,
    row: ScimUserRow,
    managers: ManagerLookup,
  ): Promise<void> {
    const write: ScimWrite = { kind: 'delete', before: stateOf(row) };
    const sent = await this.send(caller, row.id, row.version + 1, write, managers);
    await deleteScimUser(tx, row.id);
    await this.audit(tx, caller, 'deleted', row, sent.version, sent.outcome.event);
  }
}
