/**
 * `idflow plan person <id>`: the plan a reconcile step would carry out for a person now,
 * computed on the worker against the live targets (the worker holds their credentials), with
 * nothing changed. Needs Temporal and a running worker; waits at most a minute.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { NAME_PATTERN } from '../../dsl/schema';
import { IdentityEvent } from '../../model/event';
import { checkPersonIdArgument } from './persons';
import { executeDryRun } from '../../temporal/dry-run';
import { executePlanPerson } from '../../temporal/plan-person';
import { renderPlan } from '../access-view';
import { renderDryRun } from '../dry-run-view';
import { cliActor, configOrExit, withTemporal } from '../runtime';

/**
 * An event file as `POST /v1/events` takes it (JSON, or YAML of the same shape), checked with the
 * gateway's schema; an error names every field that is wrong.
 */
export function readEventFile(path: string): IdentityEvent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
  let body: unknown;
  try {
    body = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(
      `${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const parsed = IdentityEvent.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map(
      (i) => `  ${i.path.map(String).join('.') || '(event)'}: ${i.message}`,
    );
    throw new Error(`${path} is not a valid event:\n${fields.join('\n')}`);
  }
  return parsed.data;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerPlan(program: Command): void {
  const plan = program
    .command('plan')
    .description('preview what idflow would change, changing nothing');
  plan
    .command('person')
    .description(
      "the changes a reconcile step would make to a person's access now, read from the live targets",
    )
    .argument('<person-id>')
    .option(
      '--connector <name>',
      'only this connector (repeat for more; default: all)',
      collect,
      [],
    )
    .option('--json', 'print the plan as JSON')
    .action(async (id: string, options: { connector: string[]; json?: boolean }) => {
      checkPersonIdArgument(id);
      for (const name of options.connector)
        if (!NAME_PATTERN.test(name))
          throw new Error(
            `--connector must be a connector name, like corp-directory, not '${name}'`,
          );
      const config = configOrExit();
      await withTemporal(config, async (client) => {
        const result = await executePlanPerson(client, config.temporal.taskQueue, {
          personId: id,
          connectors: [...new Set(options.connector)].sort(),
        });
        console.log(options.json ? JSON.stringify(result, null, 2) : renderPlan(result));
      });
    });
  plan
    .command('event')
    .description(
      'what an event would do: the rules that match, the flows and versions that would start, and each step — reads done for real, writes described and not done',
    )
    .argument('<file>', 'the event, as POST /v1/events takes it (JSON or YAML)')
    .option('--json', 'print the dry run as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const event = readEventFile(file);
      const config = configOrExit();
      await withTemporal(config, async (client) => {
        const result = await executeDryRun(client, config.temporal.taskQueue, {
          event,
          actor: cliActor(),
        });
        console.log(options.json ? JSON.stringify(result, null, 2) : renderDryRun(result));
      });
    });
}
