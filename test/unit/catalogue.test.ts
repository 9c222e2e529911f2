/**
 * The event catalogue is complete: every event type idflow ships a reference process for has an
 * example in examples/events/ that is a valid event, the reference policies start at least one
 * reference flow for it, and docs/lifecycle.md lists it. (The integration tests run the flows.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toCel } from '../../src/dsl/cel-runtime';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from '../../src/dsl/shapes';
import { IdentityEvent } from '../../src/model/event';
import { evaluatePolicies } from '../../src/policy/evaluate';
import { compileRepoPaths, readRepoFile, ROOT } from '../support/definitions';

const CATALOGUE = [
  'person.joiner',
  'person.mover',
  'person.leaver',
  'person.rehire',
  'person.reactivation',
  'person.preleaver-notification',
  'person.inbox-joiner',
  'account.inbox-provision',
  'account.takeover-suspected',
  'account.login',
  'account.password-changed',
  'account.release-requested',
  'mailbox.discovered',
  'role.location-changed',
  'role.location-reverted',
  'role.secondary-location-added',
  'role.secondary-location-removed',
];

const dir = join(ROOT, 'examples', 'events');
const examples = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    file,
    event: IdentityEvent.parse(JSON.parse(readFileSync(join(dir, file), 'utf8'))),
  }));

test('every example is a catalogue event, and every catalogue event has an example', () => {
  expect([...new Set(examples.map((e) => e.event.type))].sort()).toEqual([...CATALOGUE].sort());
});

test.each(CATALOGUE)(
  '%s: the reference policies start a reference flow for its example',
  async (type) => {
    const defs = await compileRepoPaths('definitions');
    expect(defs.diagnostics).toEqual([]);
    const policies = [...defs.policies.values()].map((p) => p.ir);
    for (const { event } of examples.filter((e) => e.event.type === type)) {
      const decision = evaluatePolicies(policies, event.type, {
        event: toCel(event, eventShape(ATTRIBUTES)),
        subject: toCel(event.subject, PERSON_SHAPE),
        now: new Date(),
      });
      expect(decision.flows.length).toBeGreaterThan(0);
      for (const flow of decision.flows) expect(defs.flows.has(flow)).toBe(true);
    }
  },
);

test('docs/lifecycle.md lists every catalogue event with its example', () => {
  const doc = readRepoFile('docs/lifecycle.md');
  for (const type of CATALOGUE) expect(doc).toContain(`| \`${type}\``);
  for (const { file } of examples) expect(doc).toContain(`(../examples/events/${file})`);
});
