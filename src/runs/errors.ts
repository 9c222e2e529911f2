/**
 * What can go wrong with a run operation, by kind: the gateway maps each to its HTTP problem,
 * the CLI prints its message. Messages name the run, the field and the rule, nothing personal.
 */

/** A filter, cursor or request field that is not acceptable; `field` names it. */
export class RunInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RunInputError';
  }
}

/** No idflow run has this workflow id (no workflow at all, or one that is not a flow run). */
export class RunNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`no idflow run has the workflow id ${JSON.stringify(workflowId)}`);
    this.name = 'RunNotFoundError';
  }
}

/** An operator action the run cannot take now: not parked, another step, approve off the guard. */
export class RunNotOperableError extends Error {
  constructor(
    readonly workflowId: string,
    message: string,
    readonly status?: string,
  ) {
    super(message);
    this.name = 'RunNotOperableError';
  }
}
