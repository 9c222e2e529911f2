/**
 * The `idstore` connector's ops on idflow's persons table. Each op runs in one transaction that
 * also writes its audit row and keeps its result under the call's idempotency key, so a
 * retried call (say, after the worker died between the commit and reporting back) returns the
 * first result instead of acting twice. Ops converge: setting what is already set is a success
 * that reports `changed: false`. A value the database refuses, or a unique key another person
 * holds, fails the op for good (InvalidValue, ConstraintViolated) with a message that names the
 * column or constraint, never the values.
 */
import type * as z from 'zod';
import type { idstore } from '../../src/connectors/idstore';
import type { Database } from '../../src/db/client';
import { describeDatabaseError } from '../../src/db/errors';
import { recordReportedActivity } from '../../src/db/repos/account-activity';
import { appendAudit } from '../../src/db/repos/audit';
import { findResult, storeResult } from '../../src/db/repos/idempotency';
import {
  getPerson,
  insertPersonIfAbsent,
  toPerson,
  updatePerson,
  type PersonRow,
} from '../../src/db/repos/persons';
import { connectorFailure, databaseFailure } from '../errors';
import type { OpContext } from './types';

type Ops = (typeof idstore)['ops'];
type Args<K extends keyof Ops> = z.infer<Ops[K]['args']>;
type Result<K extends keyof Ops> = z.infer<Ops[K]['result']>;

const DATE_FIELDS = new Set(['validFrom', 'validUntil']);

/** How far past the worker's clock a reported time may be (clocks differ a little). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Column values from op arguments: timestamps as Dates, attributes left to the caller. */
function columns(fields: Record<string, unknown>): Partial<PersonRow> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'attributes' || value === undefined) continue;
    out[key] = DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value;
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Merges `changes` into `attributes`; a null value removes the attribute. */
function mergeAttributes(
  attributes: unknown,
  changes: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(attributes as Record<string, unknown>) };
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

export async function once<T>(
  db: Database,
  ctx: OpContext,
  op: string,
  act: (tx: Database) => Promise<T>,
): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      const done = await findResult<T>(tx, ctx.idempotencyKey);
      if (done !== undefined) return done;
      const result = await act(tx);
      await storeResult(tx, ctx.idempotencyKey, `idstore.${op}`, result);
      return result;
    });
  } catch (err) {
    // an attempt running at the same time kept its result first: that result is this one's
    if (describeDatabaseError(err)?.constraint === 'idempotency_keys_pkey') {
      const done = await findResult<T>(db, ctx.idempotencyKey).catch(() => undefined);
      if (done !== undefined) return done;
    }
    throw databaseFailure(`identity store: ${op}`, err, { fromDatabase: true }) ?? err;
  }
}

async function requirePerson(tx: Database, personId: string): Promise<PersonRow> {
  const row = await getPerson(tx, personId, true);
  if (!row)
    throw connectorFailure(
      'TargetNotFound',
      `no person with id '${personId}' in the identity store`,
    );
  return row;
}

export function createIdstoreOps(db: Database) {
  const audit = (
    tx: Database,
    ctx: OpContext,
    action: string,
    target: string,
    changed: boolean,
    detail: Record<string, unknown>,
  ) =>
    appendAudit(tx, {
      actor: `flow:${ctx.flow}`,
      action,
      target: `person:${target}`,
      outcome: changed ? 'ok' : 'unchanged',
      detail: { connector: ctx.connector, step: ctx.stepId, ...detail },
      runId: ctx.runId,
      // one row per op call of a step run (its idempotency key), whatever retries or replays
      dedupeKey: `${ctx.idempotencyKey}/idstore`,
    });

  return {
    async upsertPerson(
      args: Args<'upsertPerson'>,
      ctx: OpContext,
    ): Promise<Result<'upsertPerson'>> {
      return once(db, ctx, 'upsertPerson', async (tx) => {
        const { id, attributes, ...fields } = args;
        const inserted = await insertPersonIfAbsent(tx, {
          id,
          ...columns(fields),
          attributes: mergeAttributes({}, attributes),
        });
        if (inserted) {
          await audit(tx, ctx, 'person.created', id, true, { fields: Object.keys(fields) });
          return { person: toPerson(inserted), created: true, changed: true };
        }
        const existing = await requirePerson(tx, id);
        const updates: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(columns(fields))) {
          if (!sameValue(existing[key as keyof PersonRow], value)) updates[key] = value;
        }
        const mergedAttributes = mergeAttributes(existing.attributes, attributes);
        if (!sameValue(existing.attributes, mergedAttributes))
          updates.attributes = mergedAttributes;
        const changed = Object.keys(updates).length > 0;
        const row = changed ? await updatePerson(tx, id, updates) : existing;
        await audit(tx, ctx, 'person.updated', id, changed, { fields: Object.keys(updates) });
        return { person: toPerson(row), created: false, changed };
      });
    },

    async setStatus(args: Args<'setStatus'>, ctx: OpContext): Promise<Result<'setStatus'>> {
      return once(db, ctx, 'setStatus', async (tx) => {
        const row = await requirePerson(tx, args.personId);
        const previousStatus = row.status as Result<'setStatus'>['previousStatus'];
        const changed = previousStatus !== args.status;
        if (changed) await updatePerson(tx, args.personId, { status: args.status });
        await audit(tx, ctx, 'person.status-changed', args.personId, changed, {
          from: previousStatus,
          to: args.status,
          ...(args.reason ? { reason: args.reason } : {}),
        });
        return { personId: args.personId, status: args.status, previousStatus, changed };
      });
    },

    async setAttributes(
      args: Args<'setAttributes'>,
      ctx: OpContext,
    ): Promise<Result<'setAttributes'>> {
      return once(db, ctx, 'setAttributes', async (tx) => {
        const row = await requirePerson(tx, args.personId);
        const attributes = mergeAttributes(row.attributes, args.attributes);
        const changed = !sameValue(row.attributes, attributes);
        if (changed) await updatePerson(tx, args.personId, { attributes });
        await audit(tx, ctx, 'person.attributes-set', args.personId, changed, {
          keys: Object.keys(args.attributes),
        });
        return { personId: args.personId, attributes, changed };
      });
    },

    async recordAccountActivity(
      args: Args<'recordAccountActivity'>,
      ctx: OpContext,
    ): Promise<Result<'recordAccountActivity'>> {
      const now = new Date();
      const at = new Date(args.at);
      if (at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
        throw connectorFailure(
          'InvalidRequest',
          `identity store: recordAccountActivity: at is later than this worker's clock (by more than ${FUTURE_TOLERANCE_MS / 60_000} minutes); a time from the future would hold back every later report`,
        );
      }
      try {
        return await db.transaction(async (tx) => {
          const result = await recordReportedActivity(tx, {
            personId: args.personId,
            connector: args.connector,
            accountName: args.account,
            kind: args.activity,
            at,
            now,
          });
          if (!result.recorded) return { recorded: false, changed: false };
          // a late or duplicate report changes nothing and leaves no row; times stay out of it
          if (result.changed) {
            await appendAudit(tx, {
              actor: `flow:${ctx.flow}`,
              action: 'account.activity-recorded',
              target: `person:${args.personId}`,
              outcome: 'ok',
              detail: { connector: args.connector, activity: args.activity, step: ctx.stepId },
              runId: ctx.runId,
              dedupeKey: `${ctx.idempotencyKey}/idstore`,
            });
          }
          return { recorded: true, changed: result.changed };
        });
      } catch (err) {
        throw (
          databaseFailure('identity store: recordAccountActivity', err, { fromDatabase: true }) ??
          err
        );
      }
    },

    async getPerson(args: Args<'getPerson'>): Promise<Result<'getPerson'>> {
      try {
        const row = await getPerson(db, args.personId);
        return row ? { found: true, person: toPerson(row) } : { found: false };
      } catch (err) {
        throw databaseFailure('identity store: getPerson', err, { fromDatabase: true }) ?? err;
      }
    },
  } satisfies {
    [K in Exclude<keyof Ops, 'grantAccess' | 'revokeAccess' | 'holdAccount' | 'releaseAccount'>]: (
      args: Args<K>,
      ctx: OpContext,
    ) => Promise<Result<K>>;
  };
}
