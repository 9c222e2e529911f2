/**
 * A person and their access, for `GET /v1/persons/{id}`, `GET /v1/persons/{id}/plan` and the
 * `idflow persons show` / `idflow plan person` commands. What a person *should* have comes from
 * their roles and explicit grants (computed now, from the active roles); what they *have* is
 * idflow's record of its last read of each target — not the truth, which only a plan (read live
 * on the worker) shows.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { desiredState } from '../../access/desired';
import type { AccessGrant, AccessPlan, AccountHold, HeldRole } from '../../access/types';
import type { Database } from '../../db/client';
import { accountsOf, activeGrants, type RecordedAccount } from '../../db/repos/access';
import { activeAccessDefinitions } from '../../db/repos/definitions';
import { activeHolds } from '../../db/repos/holds';
import { runsOfSubject, type SubjectRun } from '../../db/repos/events';
import { getPerson, toPerson } from '../../db/repos/persons';
import { timelineWorkflowId } from '../../model/event';
import type { Person } from '../../model/person';
import type { TimelineState } from '../../temporal/contracts';
import {
  executePlanPerson,
  PLAN_TIMEOUT_MS,
  PlanPersonNotFoundError,
} from '../../temporal/plan-person';
import { NotFoundProblem } from '../problems';
import { callTemporal, type DependencyMonitor } from './dependencies';
import { planProblem } from './plan-problems';

/** How many of a person's runs are shown. */
export const RECENT_RUNS = 20;

/** A person as `GET /v1/persons/{id}` and `idflow persons show` present them. */
export interface PersonAccessView {
  person: Person;
  /** The roles the person holds now, and why each applies. */
  roles: HeldRole[];
  /** Why the person holds no access at all (their status). */
  noAccessBecause?: string;
  /** Roles or grants that could not be evaluated. */
  problems: string[];
  /** Accounts and entitlements as idflow last read them from the targets (`lastReadAt`). */
  accounts: RecordedAccount[];
  /** Explicit grants that count now. */
  grants: AccessGrant[];
  /** Holds in place: each keeps the person's account on its connector disabled until lifted. */
  holds: AccountHold[];
  /** The runs started for events about the person, newest first. */
  runs: SubjectRun[];
}

/** Reading a person's access: the database only. */
export class PersonService {
  constructor(private readonly db: Database) {}

  /** The person and their access; 404 when the identity store has no such person. */
  async show(id: string, now = new Date()): Promise<PersonAccessView> {
    const row = await getPerson(this.db, id);
    if (!row) throw new NotFoundProblem(`no person with id ${id} in the identity store`);
    const person = toPerson(row);
    const [{ roles }, grants, holds, accounts, runs] = await Promise.all([
      activeAccessDefinitions(this.db),
      activeGrants(this.db, id, now),
      activeHolds(this.db, id),
      accountsOf(this.db, id),
      runsOfSubject(this.db, id, RECENT_RUNS),
    ]);
    const desired = desiredState(person, roles, grants, now, holds);
    return {
      person,
      roles: desired.roles,
      ...(desired.noAccessBecause ? { noAccessBecause: desired.noAccessBecause } : {}),
      problems: desired.problems ?? [],
      accounts,
      grants,
      holds: desired.holds,
      runs,
    };
  }
}

/** The problem a failed plan is answered with; other errors as they are. */
function personPlanProblem(err: unknown): unknown {
  if (err instanceof PlanPersonNotFoundError) return new NotFoundProblem(err.message);
  return planProblem(err, {
    title: 'The plan could not be computed',
    failed: 'reading the targets failed',
  });
}

/** Previews of a person's access plan, computed by the `planPerson` workflow on the worker. */
export class AccessPlanService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly dependencies?: DependencyMonitor,
  ) {}

  /**
   * The plan a reconcile step would carry out now, changing nothing. 404 for an unknown person
   * (asked of the database first, so no workflow starts for one); 504 when no plan comes within
   * a minute; 502 when a target refuses or fails.
   */
  async plan(personId: string, connectors: string[]): Promise<AccessPlan> {
    if (!(await getPerson(this.db, personId)))
      throw new NotFoundProblem(`no person with id ${personId} in the identity store`);
    // a little longer than the workflow may live, so its own timeout answers first; the plan's
    // own failures become problems inside the call, never mistaken for Temporal being down
    return callTemporal(
      this.temporal,
      this.dependencies,
      () =>
        executePlanPerson(this.temporal, this.taskQueue, { personId, connectors }).catch(
          (err: unknown) => {
            throw personPlanProblem(err);
          },
        ),
      PLAN_TIMEOUT_MS + 5_000,
    );
  }

  /**
   * The person's timeline: the events not finished yet, in acceptance order, and the keys of
   * the last finished ones. A person without a timeline (no event since the timeline began)
   * has an empty one.
   */
  async timeline(personId: string): Promise<TimelineState> {
    const handle = this.temporal.workflow.getHandle(timelineWorkflowId(this.taskQueue, personId));
    return callTemporal(
      this.temporal,
      this.dependencies,
      () =>
        handle.query<TimelineState>('timeline').catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError)
            return { personId, entries: [], recent: [], finishedInThisRun: 0 };
          throw err;
        }),
      5_000,
    );
  }
}
