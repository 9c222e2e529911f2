/**
 * `idflow persons show <id>`: a person, the roles they hold and why, their accounts and
 * entitlements as idflow last read them, their explicit grants and recent runs. Reads the
 * database only; the live state of the targets is what `idflow plan person` shows.
 */
import type { Command } from 'commander';
import { PersonService } from '../../gateway/services/persons';
import { isPersonId, PERSON_ID_MESSAGE } from '../../model/person';
import { renderPerson } from '../access-view';
import { registerPersonsLink } from './review';
import { withDatabase } from '../runtime';

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
      if (!isPersonId(id))
        throw new Error(`<person-id> ${PERSON_ID_MESSAGE}, not ${JSON.stringify(id)}`);
      await withDatabase(async (db) => {
        const view = await new PersonService(db).show(id);
        console.log(options.json ? JSON.stringify(view, null, 2) : renderPerson(view));
      });
    });
  registerPersonsLink(persons);
}
