/** The `resolveReview` update: an operator's choice for a correlation review a run waits on. */
import { defineUpdate } from '@temporalio/workflow';
import type { ReviewResolution } from '../src/temporal/correlation';

export const reviewUpdate = defineUpdate<
  { reviewId: string; status: 'resolved' },
  [ReviewResolution]
>('resolveReview');
