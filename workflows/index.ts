/** Every workflow the idflow worker runs. */
export { dispatchEvent } from './dispatch';
export { runFlow, stateQuery, operatorUpdate, decideUpdate } from './run-flow';
export { planPerson } from './plan-person';
export { dryRunEvent } from './dry-run';
export { personTimeline, acceptSignal, decideSignal, timelineQuery } from './timeline';
export { forEachItems, forEachBatch } from './for-each';
export { scheduledRun } from './scheduled';
