/**
 * `idflow plan person <id>`: the plan a reconcile step would carry out for a person now,
 * computed on the worker against the live targets (the worker holds their credentials), with
 * nothing changed. Needs Temporal and a running worker; waits at most a minute.
 */
import type { Command } from 'commander';
import { NAME_PATTERN } from '../../dsl/schema';
import { isPersonId, PERSON_ID_MESSAGE } from '../../model/person';
import { createTemporalClient } from '../../temporal/client';
import { executePlanPerson } from '../../temporal/plan-person';
import { renderPlan } from '../access-view';
import { configOrExit } from '../runtime';

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
      if (!isPersonId(id))
        throw new Error(`<person-id> ${PERSON_ID_MESSAGE}, not ${JSON.stringify(id)}`);
      for (const name of options.connector)
        if (!NAME_PATTERN.test(name))
          throw new Error(
            `--connector must be a connector name, like corp-directory, not '${name}'`,
          );
      const config = configOrExit();
      const temporal = createTemporalClient(config);
      try {
        const result = await executePlanPerson(temporal.client, config.temporal.taskQueue, {
          personId: id,
          connectors: [...new Set(options.connector)].sort(),
        });
        console.log(options.json ? JSON.stringify(result, null, 2) : renderPlan(result));
      } finally {
        await temporal.close();
      }
    });
}
