/**
 * The `idflow` command. Each subcommand lives in commands/<name>.ts and registers itself here.
 */
import { Command } from 'commander';
import { toDatabaseError } from '../db/errors';

/**
 * The subcommands, in the order `idflow --help` lists them. `commands/<name>.ts` exports
 * `register<Name>`. A command's module is loaded only when it runs (or for the full help), so
 * `idflow runs list` does not first load the worker, the gateway and `idflow dev`.
 */
const COMMANDS = [
  'validate',
  'compile',
  'schema',
  'dev',
  'worker',
  'bundle',
  'gateway',
  'definitions',
  'tokens',
  'runs',
  'connectors',
  'persons',
  'plan',
  'review',
  'schedules',
  'audit',
  'graph',
  'webhooks',
] as const;

function register(program: Command, name: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when its command runs
  const module = require(`./commands/${name}`) as Record<string, unknown>;
  const fn = module[`register${name.charAt(0).toUpperCase()}${name.slice(1)}`];
  if (typeof fn !== 'function') throw new Error(`src/cli/commands/${name}.ts registers nothing`);
  (fn as (program: Command) => void)(program);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('idflow')
    .description('Identity lifecycle automation (joiner, mover, leaver) as code, on Temporal')
    .showHelpAfterError();
  // the named command alone; anything else (help, an option, a mistyped command) gets them all,
  // so help lists every command and a mistake is answered with the closest one
  const named = argv[2];
  const wanted = COMMANDS.find((c) => c === named);
  for (const name of wanted ? [wanted] : COMMANDS) register(program, name);
  await program.parseAsync(argv);
}

main(process.argv).catch((thrown: unknown) => {
  // a database error by its kind, column and constraint, not the statement and its values
  const err = toDatabaseError('the command', thrown) ?? thrown;
  console.error(`idflow: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
