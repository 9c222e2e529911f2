/**
 * `idflow review list|show|orphans` and `idflow persons link <review-id> <person-id>`: the
 * correlation reviews that wait on an operator, and resolving one. Reads the database; a
 * resolution goes to the waiting run through Temporal and is audited as the CLI's user.
 */
import type { Command } from 'commander';
import { HttpProblem } from '../../gateway/problems';
import { ReviewService, type ReviewView } from '../../gateway/services/reviews';
import { parseResolution } from '../../model/review';
import { createTemporalClient } from '../../temporal/client';
import { cliActor, configOrExit, withDatabase } from '../runtime';

function line(r: ReviewView): string {
  return [
    r.id,
    r.status,
    `${r.correlation}/${r.rule}`,
    `${r.record.source}:${r.record.id}`,
    r.candidates.map((c) => c.personId).join(','),
    r.workflowId,
  ].join('\t');
}

async function withReviews<T>(fn: (reviews: ReviewService) => Promise<T>): Promise<T> {
  return withDatabase(async (db) => {
    const temporal = createTemporalClient(configOrExit());
    try {
      return await fn(new ReviewService(db, temporal.client));
    } catch (err) {
      // the API's refusals, as the command's error
      if (err instanceof HttpProblem) throw new Error(err.detail ?? err.title, { cause: err });
      throw err;
    }
  });
}

/** `idflow persons link`: registered under `persons`. */
export function registerPersonsLink(persons: Command): void {
  persons
    .command('link')
    .description(
      'resolve a correlation review: the record is this person (one of its candidates); the waiting run goes on',
    )
    .argument('<review-id>')
    .argument('[person-id]', 'one of the candidates; leave out with --create')
    .option('--create', 'the record is a new person: create one')
    .action(
      async (reviewId: string, personId: string | undefined, options: { create?: boolean }) => {
        const parsed = parseResolution(
          options.create ? { create: true, ...(personId ? { personId } : {}) } : { personId },
        );
        if (!parsed.ok)
          throw new Error(parsed.problems.map((p) => `${p.path || '/'}: ${p.message}`).join('; '));
        await withReviews(async (reviews) => {
          const view = await reviews.resolve(reviewId, parsed.value, cliActor());
          console.error(
            `${view.id}: resolved, person ${view.resolution?.personId ?? '?'}${view.resolution?.created ? ' (created)' : ''}; run ${view.workflowId} goes on`,
          );
        });
      },
    );
}

export function registerReview(program: Command): void {
  const review = program
    .command('review')
    .description('correlation reviews waiting on an operator, and orphan accounts');
  review
    .command('list')
    .description('open reviews: id, correlation/rule, record, candidates, run')
    .option('--json', 'print the data as JSON')
    .action(async (options: { json?: boolean }) => {
      await withReviews(async (reviews) => {
        const open = await reviews.list();
        if (options.json) console.log(JSON.stringify(open, null, 2));
        else for (const r of open) console.log(line(r));
      });
    });
  review
    .command('show')
    .description('one review')
    .argument('<review-id>')
    .action(async (id: string) => {
      await withReviews(async (reviews) => {
        console.log(JSON.stringify(await reviews.get(id), null, 2));
      });
    });
  review
    .command('orphans')
    .description('accounts found on a target that nobody owns: connector, account id, last seen')
    .action(async () => {
      await withReviews(async (reviews) => {
        for (const o of await reviews.orphans())
          console.log([o.connector, o.accountId, o.lastSeenAt.toISOString()].join('\t'));
      });
    });
}
