/**
 * What the correlate step, its activities and the review API pass to each other. Types only:
 * the workflow sandbox imports this module.
 */

import type { EvaluatedRule } from '../dsl/correlation-rules';

export type { EvaluatedRule };

/** What `correlateRecord` runs: the rules in order, after the record's explicit link. */
export interface CorrelateInput {
  correlation: string;
  for: 'person' | 'account';
  rules: EvaluatedRule[];
  /** The record's identity in its source (HR system and record id; connector and account id). */
  link: { source: string; id: string };
  onNoMatch: 'create' | 'orphan' | 'fail';
  runId: string;
  flow: string;
  stepId: string;
}

export type CorrelateResult =
  | { outcome: 'matched'; personId: string; rule: string }
  | { outcome: 'created'; personId: string; rule: 'none' }
  | { outcome: 'orphan' }
  | { outcome: 'none' }
  | { outcome: 'review'; reviewId: string; rule: string; candidates: string[] };

/** An operator's choice for a review, sent to the waiting run (the `resolveReview` update). */
export interface ReviewResolution {
  reviewId: string;
  /** One of the candidates; or else `create`. */
  personId?: string;
  create?: boolean;
  /** Who resolved it (`token:<name>`, `cli:<user>`). */
  by: string;
}

/** What `settleReview` records once the run has the resolution: the review closed, the link. */
export interface SettleReviewInput {
  reviewId: string;
  resolution: ReviewResolution;
  for: 'person' | 'account';
  correlation: string;
  link: { source: string; id: string };
  runId: string;
  flow: string;
  stepId: string;
}
