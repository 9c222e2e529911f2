/** Every workflow the idflow worker runs. */
export { dispatchEvent } from './dispatch';
export { runFlow, stateQuery, operatorUpdate, decideUpdate } from './run-flow';
export { planPerson } from './plan-person';
