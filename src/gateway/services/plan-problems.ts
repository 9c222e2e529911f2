/**
 * The problems a preview workflow's failure is answered with, for `GET /v1/persons/{id}/plan`
 * and `POST /v1/plan` alike: 504 when it took too long, 502 naming only the failure's type (a
 * target's message may name accounts; the workflow keeps it).
 */
import { PlanFailedError, PlanTimedOutError } from '../../temporal/plan-person';
import { HttpProblem } from '../problems';

/**
 * `err` as its problem when the preview timed out or failed, other errors as they are. `title`
 * says what could not be computed, `failed` what failed, in the detail before the type.
 */
export function planProblem(err: unknown, what: { title: string; failed: string }): unknown {
  if (err instanceof PlanTimedOutError)
    return new HttpProblem(504, 'plan-timed-out', 'No plan in time', err.message, {
      workflowId: err.workflowId,
    });
  if (err instanceof PlanFailedError)
    return new HttpProblem(
      502,
      'plan-failed',
      what.title,
      `${what.failed} (${err.type}); workflow ${err.workflowId} has the details`,
      { workflowId: err.workflowId, failure: err.type },
    );
  return err;
}
