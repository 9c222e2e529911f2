/**
 * `idflow persons show <id>`: a person, the roles they hold and why, their accounts and
 * entitlements as idflow last read them, their explicit grants and recent runs. Reads the
 * database only; the live state of the targets is what `idflow plan person` shows.
 * `idflow persons timeline <id>`: the person's events not finished yet, in order (asks the
 * person's timeline workflow through Temporal).
 * `idflow persons history <id>`: every event, run and audit row about the person, oldest first,
 * with how each run ended or where it stands ("what happened to them and why").
 */
import type { Command } from 'commander';
import { AccessPlanService, PersonService } from '../../gateway/services/persons';
import type { TimelineState } from '../../temporal/contracts';
import { isPersonId, PERSON_ID_MESSAGE } from '../../model/person';
import { renderPerson } from '../access-view';
import { personHistory } from '../../runs/history';
import { redactor } from '../../runs/secrets';
import { renderHistory } from '../run-view';
import { registerPersonsLink } from './review';
import { withDatabase, withTemporal } from '../runtime';

function renderTimeline(t: TimelineState): string {
  if (t.entries.length === 0) return `${t.personId}: nothing pending`;
  return t.entries
    .map((e) =>
      [
        `#${e.seq}`,
        e.state,
        e.type,
        `${e.source}/${e.id}`,
        e.cancel ? `${e.cancel.action} by ${e.cancel.by}` : '',
        e.runs.join(','),
      ]
        .filter(Boolean)
        .join('\t'),
    )
    .join('\n');
}

/** Refuses a `<person-id>` argument that is no person id, before anything is opened. */
export function checkPersonIdArgument(id: string): void {
  if (!isPersonId(id))
    throw new Error(`<person-id> ${PERSON_ID_MESSAGE}, not ${JSON.stringify(id)}`);
}

export function registerPersons(program: Command): void {
  const persons = program
    .command('persons')
    .description('people in the identity store and their access');
  persons
    .command('show')
    .description(
      'a person, their roles and why, accounts and entitlements as last read, grants, recent runs',
    )
    .argument('<person-id>')
    .option('--json', 'print the data as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      checkPersonIdArgument(id);
      await withDatabase(async (db) => {
        const view = await new PersonService(db).show(id);
        console.log(options.json ? JSON.stringify(view, null, 2) : renderPerson(view));
      });
    });
  persons
    .command('timeline')
    .description("the person's events not finished yet, in the order idflow accepted them")
    .argument('<person-id>')
    .option('--json', 'print the data as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      checkPersonIdArgument(id);
      await withDatabase(async (db, config) => {
        await withTemporal(config, async (client) => {
          const timeline = await new AccessPlanService(
            db,
            client,
            config.temporal.taskQueue,
          ).timeline(id);
          console.log(options.json ? JSON.stringify(timeline, null, 2) : renderTimeline(timeline));
        });
      });
    });
  persons
    .command('history')
    .description(
      'what happened to the person and why: every event, run (with its outcome) and audit row, oldest first',
    )
    .argument('<person-id>')
    .option('--json', 'print the data as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      checkPersonIdArgument(id);
      await withDatabase(async (db, config) => {
        await withTemporal(config, async (client) => {
          const history = await personHistory({ client, db }, id, await redactor(db, config));
          console.log(options.json ? JSON.stringify(history, null, 2) : renderHistory(history));
        });
      });
    });
  registerPersonsLink(persons);
}
