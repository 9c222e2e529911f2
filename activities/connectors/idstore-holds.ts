/**
 * Holds on accounts in the identity store: a flow (the dormant-accounts scan, say) or an
 * operator's flow keeps a person's account on one connector disabled until the hold is lifted.
 * A hold only records that; a `reconcile` step carries it out (disables the account, never
 * enables or creates it while held). Each op runs in one transaction with its audit row (ids
 * only: the hold's reason is free text and stays in the hold's own row) and keeps its result
 * under the call's idempotency key.
 */
import type * as z from 'zod';
import type { ActiveConnectors } from '../../src/connectors/active';
import type { idstore } from '../../src/connectors/idstore';
import { connectorType } from '../../src/connectors/registry';
import type { Database } from '../../src/db/client';
import { appendAudit } from '../../src/db/repos/audit';
import { liftHolds, placeHold, recordHeldDisabled } from '../../src/db/repos/holds';
import { getPerson } from '../../src/db/repos/persons';
import { connectorFailure } from '../errors';
import { once } from './idstore';
import type { OpContext } from './types';

type Ops = (typeof idstore)['ops'];
type Args<K extends keyof Ops> = z.infer<Ops[K]['args']>;
type Result<K extends keyof Ops> = z.infer<Ops[K]['result']>;

async function requirePerson(tx: Database, personId: string): Promise<void> {
  if (!(await getPerson(tx, personId)))
    throw connectorFailure(
      'TargetNotFound',
      `no person with id '${personId}' in the identity store`,
    );
}

export function createHoldOps(db: Database, connectors: ActiveConnectors) {
  /** A hold is on an account: the connector must be active and of a type roles give accounts on. */
  async function requireAccountConnector(where: string, name: string): Promise<void> {
    const connector = await connectors.get(name);
    if (!(connector && connectorType(connector.type)?.access?.accounts))
      throw connectorFailure(
        'InvalidRequest',
        `${where}: connector '${name}' is not active or keeps no accounts reconcile manages`,
      );
  }

  return {
    async holdAccount(args: Args<'holdAccount'>, ctx: OpContext): Promise<Result<'holdAccount'>> {
      // before the transaction: the connector list may read the database, and a second
      // connection asked for while this one is held starves the pool under a batch of holds
      await requireAccountConnector(`${ctx.connector}.holdAccount`, args.connector);
      return once(db, ctx, 'holdAccount', async (tx) => {
        await requirePerson(tx, args.personId);
        const now = new Date();
        const { hold, placed } = await placeHold(tx, {
          personId: args.personId,
          connector: args.connector,
          reason: args.reason,
          by: `run:${ctx.runId}`,
          now,
        });
        const recorded = await recordHeldDisabled(tx, args.personId, args.connector, now);
        await appendAudit(tx, {
          actor: `flow:${ctx.flow}`,
          action: 'account.hold',
          target: `person:${args.personId}`,
          outcome: placed ? 'ok' : 'unchanged',
          detail: {
            step: ctx.stepId,
            connector: args.connector,
            holdId: hold.id,
            recordedDisabled: recorded,
          },
          runId: ctx.runId,
          dedupeKey: `${ctx.idempotencyKey}/idstore`,
        });
        return { holdId: hold.id, changed: placed };
      });
    },

    async releaseAccount(
      args: Args<'releaseAccount'>,
      ctx: OpContext,
    ): Promise<Result<'releaseAccount'>> {
      return once(db, ctx, 'releaseAccount', async (tx) => {
        await requirePerson(tx, args.personId);
        const lifted = await liftHolds(tx, {
          personId: args.personId,
          connector: args.connector,
          ...(args.reason !== undefined ? { reason: args.reason } : {}),
          by: `run:${ctx.runId}`,
        });
        await appendAudit(tx, {
          actor: `flow:${ctx.flow}`,
          action: 'account.release',
          target: `person:${args.personId}`,
          outcome: lifted.length > 0 ? 'ok' : 'unchanged',
          detail: {
            step: ctx.stepId,
            connector: args.connector,
            holdIds: lifted.map((h) => h.id),
            released: lifted.length,
          },
          runId: ctx.runId,
          dedupeKey: `${ctx.idempotencyKey}/idstore`,
        });
        return { released: lifted.length };
      });
    },
  };
}
