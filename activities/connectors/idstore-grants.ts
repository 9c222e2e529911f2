/**
 * Explicit grants in the identity store: a role or one entitlement given to a person by a flow
 * (after an approval, say), until a time or until revoked. A grant only records what the person
 * should have; a `reconcile` step carries it out. Separation of duties is checked here too: a
 * grant a `block` rule forbids is refused before anything is recorded.
 */
import type * as z from 'zod';
import { desiredState } from '../../src/access/desired';
import { entitlementKeys } from '../../src/access/scope';
import { grantConflicts } from '../../src/access/sod';
import type { EntitlementRef } from '../../src/access/types';
import type { idstore } from '../../src/connectors/idstore';
import { connectorType } from '../../src/connectors/registry';
import type { Database } from '../../src/db/client';
import { activeGrants, addGrant, revokeGrant } from '../../src/db/repos/access';
import { appendAudit } from '../../src/db/repos/audit';
import { activeAccessDefinitions, activeDefinitions } from '../../src/db/repos/definitions';
import { getPerson, toPerson } from '../../src/db/repos/persons';
import type { ConnectorIR } from '../../src/dsl/ir';
import { connectorFailure } from '../errors';
import { once } from './idstore';
import type { OpContext } from './types';

type Ops = (typeof idstore)['ops'];
type Args<K extends keyof Ops> = z.infer<Ops[K]['args']>;
type Result<K extends keyof Ops> = z.infer<Ops[K]['result']>;

export function createGrantOps(db: Database) {
  return {
    async grantAccess(args: Args<'grantAccess'>, ctx: OpContext): Promise<Result<'grantAccess'>> {
      const outcome = await once(
        db,
        ctx,
        'grantAccess',
        async (tx): Promise<Result<'grantAccess'> | { refused: string }> => {
          const row = await getPerson(tx, args.personId, true);
          if (!row)
            throw connectorFailure(
              'TargetNotFound',
              `no person with id '${args.personId}' in the identity store`,
            );
          const now = new Date();
          const { roles, sodRules } = await activeAccessDefinitions(tx);
          const connectors = new Map(
            (await activeDefinitions(tx, 'Connector')).map((d) => [d.name, d.ir as ConnectorIR]),
          );
          const where = `${ctx.connector}.grantAccess`;
          let granting: EntitlementRef[];
          let entitlement: EntitlementRef | undefined;
          if (args.role !== undefined) {
            const role = roles.find((r) => r.name === args.role);
            if (!role)
              throw connectorFailure(
                'InvalidRequest',
                `${where}: no active role named '${args.role}'`,
              );
            granting = role.grants.flatMap((g) =>
              g.entitlements.map((e) => ({ connector: g.connector, ...e })),
            );
          } else {
            const e = args.entitlement as NonNullable<typeof args.entitlement>;
            entitlement = { connector: e.connector, kind: e.kind ?? 'group', value: e.value };
            const connector = connectors.get(e.connector);
            const kind = connector
              ? connectorType(connector.type)?.access?.entitlements[entitlement.kind]
              : undefined;
            if (!connector || !kind) {
              throw connectorFailure(
                'InvalidRequest',
                `${where}: connector '${e.connector}' is not active or manages no entitlement kind '${entitlement.kind}'`,
              );
            }
            const problem = kind.check?.(entitlement.value, connector.config);
            if (problem) throw connectorFailure('InvalidRequest', `${where}: ${problem}`);
            granting = [entitlement];
          }
          const person = toPerson(row);
          const grants = await activeGrants(tx, person.id, now);
          const desired = desiredState({ ...person, status: 'active' }, roles, grants, now);
          const key = entitlementKeys(connectors);
          const blocking = grantConflicts(
            desired.entitlements,
            granting,
            sodRules,
            roles,
            key,
          ).filter((c) => c.rule.action === 'block');
          if (blocking.length > 0) {
            await appendAudit(tx, {
              actor: `flow:${ctx.flow}`,
              action: 'access.grant',
              target: `person:${person.id}`,
              outcome: 'refused',
              detail: {
                step: ctx.stepId,
                rules: blocking.map((b) => b.rule.name),
                reasons: blocking.map((b) => b.reason),
              },
              runId: ctx.runId,
              dedupeKey: `${ctx.idempotencyKey}/idstore/refused`,
            });
            // kept under the idempotency key like a grant: a retry is refused alike
            return { refused: `${where}: ${blocking.map((b) => b.reason).join('; ')}` };
          }
          const grant = await addGrant(tx, {
            personId: person.id,
            ...(args.role !== undefined
              ? { role: args.role }
              : { entitlement: entitlement as EntitlementRef }),
            ...(args.validUntil ? { validUntil: new Date(args.validUntil) } : {}),
            ...(args.reason ? { reason: args.reason } : {}),
            grantedBy: `run:${ctx.runId}`,
            now,
          });
          await appendAudit(tx, {
            actor: `flow:${ctx.flow}`,
            action: 'access.grant',
            target: `person:${person.id}`,
            outcome: 'ok',
            detail: {
              step: ctx.stepId,
              grantId: grant.id,
              ...(args.role !== undefined ? { role: args.role } : { entitlement }),
              ...(args.validUntil ? { validUntil: args.validUntil } : {}),
            },
            runId: ctx.runId,
            dedupeKey: `${ctx.idempotencyKey}/idstore`,
          });
          return { grantId: grant.id, personId: person.id };
        },
      );
      if ('refused' in outcome) throw connectorFailure('SodConflict', outcome.refused);
      return outcome;
    },

    async revokeAccess(
      args: Args<'revokeAccess'>,
      ctx: OpContext,
    ): Promise<Result<'revokeAccess'>> {
      return once(db, ctx, 'revokeAccess', async (tx) => {
        const grants = await activeGrants(tx, args.personId, new Date(0));
        const owned = grants.some((g) => g.id === args.grantId);
        const changed = owned && (await revokeGrant(tx, args.grantId, { by: `run:${ctx.runId}` }));
        await appendAudit(tx, {
          actor: `flow:${ctx.flow}`,
          action: 'access.revoke',
          target: `person:${args.personId}`,
          outcome: changed ? 'ok' : 'unchanged',
          detail: { step: ctx.stepId, grantId: args.grantId },
          runId: ctx.runId,
          dedupeKey: `${ctx.idempotencyKey}/idstore`,
        });
        return { grantId: args.grantId, changed };
      });
    },
  };
}
