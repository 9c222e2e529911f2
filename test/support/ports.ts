/** Tests find free ports the way idflow's worker does. */
export { freePort } from '../../src/ports';
