/**
 * Content hashes: the same definition reformatted (comments, key order, whitespace, YAML
 * styles, spacing inside expressions) keeps its hash; any change to what it does changes it.
 */
import { compileText } from '../../support/definitions';

const connector = `
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: people }
type: idstore
`;

const original = `
apiVersion: idflow/v1
kind: Flow
metadata:
  name: leaver
  title: Leaver
steps:
  - id: check
    if:
      condition: has(subject.manager) && subject.attributes.mailboxSizeGb > 10
      then:
        - id: keep
          set:
            keepMailbox: true
  - id: disable
    action:
      connector: people
      op: setStatus
      args:
        personId: \${subject.id}
        status: disabled
        reason: Left on \${event.occurredAt}
  - id: grace
    wait:
      for: 30d
${connector}`;

const reformatted = `
# Same flow: comments, other key order, flow style, other quoting and spacing.
kind: Flow
apiVersion: "idflow/v1"
metadata: {title: 'Leaver', name: leaver}   # inline mapping
steps:
- if: {then: [{set: {keepMailbox: true}, id: keep}], condition: "has( subject.manager )&&subject.attributes.mailboxSizeGb>10"}
  id: check
- action:
    args: {status: disabled, reason: 'Left on \${ event.occurredAt }', personId: '\${subject.id}'}
    op: setStatus
    connector: people
  id: disable
- {id: grace, wait: {for: 30d}}
${connector}`;

function hashOf(text: string): string {
  const result = compileText(text);
  expect(result.diagnostics).toEqual([]);
  const flow = result.flows.get('leaver');
  if (!flow) throw new Error('flow did not compile');
  return flow.hash;
}

test('a reformatted definition keeps its hash', () => {
  expect(hashOf(reformatted)).toBe(hashOf(original));
  expect(hashOf(original)).toMatch(/^sha256:[0-9a-f]{64}$/);
});

const changes: Array<[string, string, string]> = [
  ['a condition', 'mailboxSizeGb > 10', 'mailboxSizeGb > 11'],
  ['an operator', 'has(subject.manager) &&', 'has(subject.manager) ||'],
  ['an argument value', 'status: disabled', 'status: suspended'],
  ['interpolated text', 'reason: Left on', 'reason: Leaving on'],
  ['a duration', 'for: 30d', 'for: 31d'],
  ['a step id', 'id: grace', 'id: grace-period'],
  ['a title', 'title: Leaver', 'title: Leaver (employees)'],
  ['a set value', 'keepMailbox: true', 'keepMailbox: false'],
];

test.each(changes)('changing %s changes the hash', (_what, from, to) => {
  expect(original).toContain(from);
  expect(hashOf(original.replace(from, to))).not.toBe(hashOf(original));
});

test('changing the connector retry policy changes the hash of flows that use it', () => {
  const withRetry = original.replace('type: idstore', 'type: idstore\nretry: { maxAttempts: 9 }');
  expect(hashOf(withRetry)).not.toBe(hashOf(original));
});

test('swapping two steps changes the hash', () => {
  const swapped = original.replace(
    /( {2}- id: disable[\s\S]*?)( {2}- id: grace\n {4}wait:\n {6}for: 30d\n)/,
    '$2$1',
  );
  expect(swapped).not.toBe(original);
  expect(hashOf(swapped)).not.toBe(hashOf(original));
});
