/**
 * Joiners whose names are not plain ASCII — emoji, ZWJ sequences, flags, combining marks, CJK,
 * astral-plane letters — run to completion: the flow's expressions cut and case names on whole
 * characters, so what they store is valid text for PostgreSQL. Real Temporal dev server,
 * PostgreSQL, worker and gateway processes.
 */
import { getPerson } from '../../src/db/repos/persons';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/unicode'] });
  await h.start();
});

afterAll(async () => {
  await h?.close();
});

async function join(
  id: string,
  givenName: string,
  familyName: string,
): Promise<{ runId: string; outcome: Awaited<ReturnType<Harness['outcome']>> }> {
  const event = makeEvent('test.unicode-joiner', { id, givenName, familyName });
  const accepted = await h.postEvent(event);
  expect(accepted.status).toBe(202);
  const runId = `flow/it-unicode-joiner/${id}/${event.id as string}`;
  return { runId, outcome: await h.runOutcome(runId, 60_000) };
}

test('a joiner whose given name starts with an emoji completes, and the stored names are whole', async () => {
  const { runId, outcome } = await join('p-emoji', '😀nna', 'Lovelace');
  expect(outcome).toMatchObject({
    ok: true,
    result: {
      status: 'Completed',
      vars: {
        initial: '😀',
        rest: 'nna',
        handle: '😀lovelace',
        shout: '😀NNA',
        length: 4,
        words: ['Lovelace'],
      },
    },
  });
  const person = await getPerson(h.db.db, 'p-emoji');
  expect(person).toMatchObject({
    givenName: '😀nna',
    familyName: 'Lovelace',
    displayName: '😀. Lovelace',
    status: 'active',
  });
  expect(person?.attributes).toEqual({ handle: '😀lovelace', initial: '😀', shout: '😀NNA' });
  // a new run takes the code-point semantics behind their patch, and its history says so
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes);
  expect(markers.map((e) => e.markerRecordedEventAttributes?.markerName)).toContain('core_patch');
});

test.each([
  ['p-zwj', '👩‍👩‍👧 Family', 'Nguyễn', '👩', '👩nguyen'],
  ['p-flag', '🇩🇪Jürgen', 'Müller Schmidt', '🇩', '🇩mullerschmidt'],
  ['p-combining', 'e\u0301lodie', 'Dupont', 'e', 'edupont'],
  ['p-cjk', '美咲', '山田', '美', '美山田'],
  ['p-astral', '𝒜da', 'Ørsted', '𝒜', 'aorsted'],
])('%s: %s %s completes with initial %s', async (id, givenName, familyName, initial, handle) => {
  const { outcome } = await join(id, givenName, familyName);
  expect(outcome).toMatchObject({
    ok: true,
    result: { status: 'Completed', vars: { initial, handle } },
  });
  const person = await getPerson(h.db.db, id);
  expect(person).toMatchObject({ givenName, displayName: `${initial}. ${familyName}` });
});

test('a name that is itself half a character never reaches a flow: the event is refused', async () => {
  const event = makeEvent('test.unicode-joiner', {
    id: 'p-broken',
    givenName: '\ud83dnna',
    familyName: 'X',
  });
  const refused = await h.postEvent(event);
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ errors: [{ path: '/subject/givenName' }] });
});
