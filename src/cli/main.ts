/**
 * The `idflow` command. Each subcommand lives in commands/<name>.ts and registers itself here.
 */
import { Command } from 'commander';
import { registerAudit } from './commands/audit';
import { registerBundle } from './commands/bundle';
import { registerCompile } from './commands/compile';
import { registerConnectors } from './commands/connectors';
import { registerDefinitions } from './commands/definitions';
import { registerDev } from './commands/dev';
import { registerGateway } from './commands/gateway';
import { registerGraph } from './commands/graph';
import { registerPersons } from './commands/persons';
import { registerPlan } from './commands/plan';
import { registerReview } from './commands/review';
import { registerRuns } from './commands/runs';
import { registerSchedules } from './commands/schedules';
import { registerSchema } from './commands/schema';
import { registerTokens } from './commands/tokens';
import { registerValidate } from './commands/validate';
import { registerWebhooks } from './commands/webhooks';
import { registerWorker } from './commands/worker';
import { toDatabaseError } from '../db/errors';

const program = new Command()
  .name('idflow')
  .description('Identity lifecycle automation (joiner, mover, leaver) as code, on Temporal')
  .showHelpAfterError();

registerValidate(program);
registerCompile(program);
registerSchema(program);
registerDev(program);
registerWorker(program);
registerBundle(program);
registerGateway(program);
registerDefinitions(program);
registerTokens(program);
registerRuns(program);
registerConnectors(program);
registerPersons(program);
registerPlan(program);
registerReview(program);
registerSchedules(program);
registerAudit(program);
registerGraph(program);
registerWebhooks(program);

program.parseAsync(process.argv).catch((thrown: unknown) => {
  // a database error by its kind, column and constraint, not the statement and its values
  const err = toDatabaseError('the command', thrown) ?? thrown;
  console.error(`idflow: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
