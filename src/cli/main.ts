/**
 * The `idflow` command. Each subcommand lives in commands/<name>.ts and registers itself here.
 */
import { Command } from 'commander';
import { registerCompile } from './commands/compile';
import { registerSchema } from './commands/schema';
import { registerValidate } from './commands/validate';

const program = new Command()
  .name('idflow')
  .description('Identity lifecycle automation (joiner, mover, leaver) as code, on Temporal')
  .showHelpAfterError();

registerValidate(program);
registerCompile(program);
registerSchema(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`idflow: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
