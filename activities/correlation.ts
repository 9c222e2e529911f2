/**
 * The correlate step's activities, on idflow's own database (local activities).
 * `correlateRecord` tries the record's explicit link, then each rule in order: one person wins,
 * more than one opens a review item, none creates a person, records an orphan account or reports
 * nothing found, as the step says. `settleReview` records an operator's resolution once the run
 * has it: the review closed, the link that spares the same record a second review, the person
 * created when asked. Each runs in one transaction with its audit rows (ids and counts only)
 * and keeps its result under the step's key, so a retry or a replay acts once.
 */
import type { Database } from '../src/db/client';
import { appendAudit, type AuditEntry } from '../src/db/repos/audit';
import {
  addLink,
  insertReview,
  linkedPerson,
  matchingPersons,
  recordCorrelatedAccount,
  recordOrphan,
  resolveReview,
} from '../src/db/repos/correlation';
import { findResult, storeResult } from '../src/db/repos/idempotency';
import { insertPersonIfAbsent } from '../src/db/repos/persons';
import { createdPersonIdOf, reviewIdOf } from '../src/model/review';
import type {
  CorrelateInput,
  CorrelateResult,
  SettleReviewInput,
} from '../src/temporal/correlation';
import { databaseFailure } from './errors';

/** At most this many candidates are listed on a review. */
export const MAX_CANDIDATES = 20;

async function once<T>(
  db: Database,
  key: string,
  operation: string,
  act: (tx: Database) => Promise<T>,
): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      const done = await findResult<T>(tx, key);
      if (done !== undefined) return done;
      const result = await act(tx);
      await storeResult(tx, key, operation, result);
      return result;
    });
  } catch (err) {
    throw databaseFailure(`correlation: ${operation}`, err, { fromDatabase: true }) ?? err;
  }
}

export function createCorrelationActivities({ db }: { db: Database }) {
  return {
    async correlateRecord(input: CorrelateInput): Promise<CorrelateResult> {
      const key = `${input.runId}:${input.stepId}/correlate`;
      return once(db, key, 'correlateRecord', async (tx) => {
        const now = new Date();
        const audit = (entry: Omit<AuditEntry, 'actor' | 'runId' | 'dedupeKey'>) =>
          appendAudit(tx, {
            actor: `flow:${input.flow}`,
            runId: input.runId,
            dedupeKey: `${key}/${entry.action}`,
            ...entry,
            detail: { correlation: input.correlation, step: input.stepId, ...entry.detail },
          });
        const matched = async (personId: string, rule: string): Promise<CorrelateResult> => {
          await audit({
            action: `${input.for}.correlated`,
            target: `person:${personId}`,
            outcome: 'ok',
            detail: { rule },
          });
          if (input.for === 'account') await recordAccount(tx, input, personId, now, audit);
          return { outcome: 'matched', personId, rule };
        };

        const linked = await linkedPerson(tx, input.for, input.link.source, input.link.id);
        if (linked) return matched(linked, 'link');
        for (const rule of input.rules) {
          if ('skipped' in rule) continue;
          const found = await matchingPersons(tx, rule.values, MAX_CANDIDATES + 1);
          if (found.length === 1) return matched(found[0] as string, rule.name);
          if (found.length > 1) {
            const reviewId = reviewIdOf(input.runId, input.stepId);
            const candidates = found.slice(0, MAX_CANDIDATES);
            await insertReview(tx, {
              id: reviewId,
              kind: 'correlation',
              workflowId: input.runId,
              step: input.stepId,
              correlation: input.correlation,
              rule: rule.name,
              recordKind: input.for,
              source: input.link.source,
              sourceId: input.link.id,
              candidates,
            });
            await audit({
              action: 'correlation.review-opened',
              target: `review:${reviewId}`,
              outcome: 'flagged',
              detail: { rule: rule.name, candidates, more: found.length > MAX_CANDIDATES },
            });
            return { outcome: 'review', reviewId, rule: rule.name, candidates };
          }
        }
        if (input.for === 'account' && input.onNoMatch === 'orphan') {
          await recordOrphan(tx, {
            connector: input.link.source,
            accountId: input.link.id,
            runId: input.runId,
            at: now,
          });
          await audit({
            action: 'account.orphan',
            target: `account:${input.link.source}/${input.link.id}`,
            outcome: 'flagged',
            detail: { rules: input.rules.length },
          });
          return { outcome: 'orphan' };
        }
        if (input.for === 'person' && input.onNoMatch === 'create') {
          const personId = await createPerson(tx, input, undefined, `flow:${input.flow}`);
          await audit({
            action: 'person.created',
            target: `person:${personId}`,
            outcome: 'ok',
            detail: { rule: 'none' },
          });
          return { outcome: 'created', personId, rule: 'none' };
        }
        await audit({
          action: 'correlation.no-match',
          target: `${input.for}:${input.link.source}/${input.link.id}`,
          outcome: input.onNoMatch === 'fail' ? 'failed' : 'flagged',
          detail: { rules: input.rules.length },
        });
        return input.onNoMatch === 'fail' ? { outcome: 'none' } : { outcome: 'orphan' };
      });
    },

    async settleReview(input: SettleReviewInput): Promise<{ personId: string; created: boolean }> {
      const key = `${input.runId}:${input.stepId}/settle-review`;
      return once(db, key, 'settleReview', async (tx) => {
        const { resolution } = input;
        const created = resolution.create === true;
        const personId = created
          ? await createPerson(tx, { ...input, for: 'person' }, input.reviewId, resolution.by)
          : (resolution.personId as string);
        if (!created) {
          await addLink(tx, {
            kind: input.for,
            source: input.link.source,
            sourceId: input.link.id,
            personId,
            reviewId: input.reviewId,
            createdBy: resolution.by,
          });
        }
        const closed = await resolveReview(tx, input.reviewId, {
          personId,
          created,
          by: resolution.by,
          at: new Date(),
        });
        // the gateway audits the resolution it records; a run that records it first does so here
        await appendAudit(tx, {
          actor: resolution.by,
          action: 'correlation.review-resolved',
          target: `review:${input.reviewId}`,
          outcome: 'ok',
          detail: { personId, created, step: input.stepId, recordedBy: closed ? 'run' : 'api' },
          runId: input.runId,
          dedupeKey: `correlation.review-resolved:${input.reviewId}`,
        });
        if (input.for === 'account' && !created) {
          await recordAccount(tx, input, personId, new Date(), (entry) =>
            appendAudit(tx, {
              actor: `flow:${input.flow}`,
              runId: input.runId,
              dedupeKey: `${key}/${entry.action}`,
              ...entry,
            }),
          );
        }
        return { personId, created };
      });
    },
  };
}

/** A new person for a record nobody matched, with its link; the same record gives the same id. */
async function createPerson(
  tx: Database,
  input: Pick<CorrelateInput, 'link' | 'runId'> & { for: 'person' | 'account' },
  reviewId: string | undefined,
  by: string,
): Promise<string> {
  const personId = createdPersonIdOf(input.link.source, input.link.id);
  await insertPersonIfAbsent(tx, { id: personId, status: 'pending' });
  await addLink(tx, {
    kind: input.for,
    source: input.link.source,
    sourceId: input.link.id,
    personId,
    ...(reviewId ? { reviewId } : {}),
    createdBy: by,
  });
  return personId;
}

/** A matched account recorded as the person's; one recorded as someone else's is flagged. */
async function recordAccount(
  tx: Database,
  input: Pick<CorrelateInput, 'link' | 'runId' | 'stepId'>,
  personId: string,
  now: Date,
  audit: (entry: Omit<AuditEntry, 'actor' | 'runId' | 'dedupeKey'>) => Promise<void>,
): Promise<void> {
  const result = await recordCorrelatedAccount(tx, {
    personId,
    connector: input.link.source,
    accountId: input.link.id,
    runId: input.runId,
    at: now,
  });
  if (result.owner !== undefined && result.owner !== personId) {
    await audit({
      action: 'account.owner-conflict',
      target: `account:${input.link.source}/${input.link.id}`,
      outcome: 'flagged',
      detail: { personId, recordedOwner: result.owner, step: input.stepId },
    });
  }
}
