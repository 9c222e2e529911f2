/**
 * Correlation reviews: what waits on an operator's choice, one review, and resolving it. A
 * resolution goes to the waiting run as its `resolveReview` update (the run checks it again:
 * open, a candidate or a new person), and is recorded here with the link that spares the same
 * record a second review. Audit rows carry ids only. The CLI (`idflow persons link`) uses this
 * service too.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../../db/client';
import { appendAudit } from '../../db/repos/audit';
import {
  addLink,
  getReview,
  listOrphans,
  openReviews,
  resolveReview,
  type OrphanAccountRow,
  type RecordKind,
  type ReviewRow,
} from '../../db/repos/correlation';
import { createdPersonIdOf, REVIEW_ID_PATTERN, type ResolutionBody } from '../../model/review';
import type { ReviewResolution } from '../../temporal/correlation';
import { ConflictProblem, NotFoundProblem, ValidationProblem } from '../problems';
import { callTemporal, type DependencyMonitor } from './dependencies';

export interface ReviewView {
  id: string;
  kind: string;
  status: 'open' | 'resolved';
  workflowId: string;
  step: string;
  correlation: string;
  rule: string;
  record: { kind: string; source: string; id: string };
  candidates: Array<{ personId: string; links: { person: string } }>;
  createdAt: string;
  resolution?: { personId: string; created: boolean; by: string; at: string };
  links: { self: string };
}

export function reviewView(row: ReviewRow): ReviewView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status as ReviewView['status'],
    workflowId: row.workflowId,
    step: row.step,
    correlation: row.correlation,
    rule: row.rule,
    record: { kind: row.recordKind, source: row.source, id: row.sourceId },
    candidates: row.candidates.map((personId) => ({
      personId,
      links: { person: `/v1/persons/${personId}` },
    })),
    createdAt: row.createdAt.toISOString(),
    ...(row.status === 'resolved' && row.personId
      ? {
          resolution: {
            personId: row.personId,
            created: row.created === true,
            by: row.resolvedBy ?? '',
            at: row.resolvedAt?.toISOString() ?? '',
          },
        }
      : {}),
    links: { self: `/v1/review/${row.id}` },
  };
}

/** How the run's refusals of a resolution are answered. */
const REFUSALS: Record<string, 'conflict' | 'invalid'> = {
  ReviewResolved: 'conflict',
  ReviewNotWaiting: 'conflict',
  NotACandidate: 'invalid',
};

export class ReviewService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly dependencies?: DependencyMonitor,
  ) {}

  async list(limit = 200): Promise<ReviewView[]> {
    return (await openReviews(this.db, limit)).map(reviewView);
  }

  async orphans(limit = 500): Promise<OrphanAccountRow[]> {
    return listOrphans(this.db, limit);
  }

  async get(id: string): Promise<ReviewView> {
    return reviewView(await this.row(id));
  }

  private async row(id: string): Promise<ReviewRow> {
    const row = REVIEW_ID_PATTERN.test(id) ? await getReview(this.db, id) : undefined;
    if (!row) throw new NotFoundProblem(`no review ${id}`);
    return row;
  }

  /** Resolves an open review for `actor` (`token:<name>`, `cli:<user>`): the run goes on. */
  async resolve(id: string, body: ResolutionBody, actor: string): Promise<ReviewView> {
    const row = await this.row(id);
    if (row.status !== 'open') throw new ConflictProblem(`review ${id} is already resolved`);
    const create = 'create' in body;
    if (create && row.recordKind === 'account') {
      throw new ValidationProblem('resolution', [
        { path: '/create', message: 'an account is matched to a person, never to a new one' },
      ]);
    }
    if (!create && !row.candidates.includes(body.personId)) {
      throw new ValidationProblem('resolution', [
        {
          path: '/personId',
          message: `must be one of the candidates: ${row.candidates.join(', ')}`,
        },
      ]);
    }
    const resolution: ReviewResolution = {
      reviewId: id,
      ...(create ? { create: true } : { personId: body.personId }),
      by: actor,
    };
    try {
      await callTemporal(
        this.temporal,
        this.dependencies,
        () =>
          this.temporal.workflow.getHandle(row.workflowId).executeUpdate('resolveReview', {
            args: [resolution],
            updateId: `review:${id}`,
          }),
        10_000,
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new ConflictProblem(`the run of review ${id} is not running`);
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      const refusal = cause instanceof ApplicationFailure ? REFUSALS[cause.type ?? ''] : undefined;
      if (refusal === 'conflict') throw new ConflictProblem(cause?.message ?? 'refused');
      if (refusal === 'invalid')
        throw new ValidationProblem('resolution', [
          { path: '/personId', message: cause?.message ?? '' },
        ]);
      throw err;
    }
    const personId = create ? createdPersonIdOf(row.source, row.sourceId) : body.personId;
    await this.db.transaction(async (tx) => {
      if (!create) {
        await addLink(tx, {
          kind: row.recordKind as RecordKind,
          source: row.source,
          sourceId: row.sourceId,
          personId,
          reviewId: id,
          createdBy: actor,
        });
      }
      await resolveReview(tx, id, { personId, created: create, by: actor, at: new Date() });
      await appendAudit(tx, {
        actor,
        action: 'correlation.review-resolved',
        target: `review:${id}`,
        outcome: 'ok',
        detail: { personId, created: create, step: row.step, recordedBy: 'api' },
        runId: row.workflowId,
        dedupeKey: `correlation.review-resolved:${id}`,
      });
    });
    return this.get(id);
  }
}
