/**
 * Visibility queries: whatever string a value is, the query holds it as exactly one literal
 * (read back by a tokenizer that scans strings as Temporal's query parser does), or the value
 * is refused with the field named. Person ids follow one grammar.
 */
import * as fc from 'fast-check';
import { cliFilter } from '../../src/cli/commands/runs';
import { runsQuery } from '../../src/runs/filter';
import { isPersonId, PersonId } from '../../src/model/person';
import {
  equals,
  isSet,
  literal,
  visibilityQuery,
  VisibilityValueError,
} from '../../src/temporal/visibility';

type Token = { kind: 'word' | 'op'; text: string } | { kind: 'string'; value: string };

/** Tokens of a query: words, operators, and quoted strings with backslash escapes decoded. */
function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (c === ' ') {
      i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= query.length) throw new Error(`unterminated string in ${query}`);
        const d = query[i] as string;
        if (d === '\\') {
          value += query[i + 1] ?? '';
          i += 2;
        } else if (d === c) {
          if (query[i + 1] === c) {
            value += c;
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', value });
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i))?.[0] as string;
      tokens.push({ kind: 'word', text: word });
      i += word.length;
    } else {
      tokens.push({ kind: 'op', text: c });
      i++;
    }
  }
  return tokens;
}

test('any string value is one literal of the query, or refused naming its field', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
      (a, b) => {
        let query: string;
        try {
          query = visibilityQuery(
            isSet('IdflowFlow'),
            equals('IdflowSubject', a, 'subject'),
            equals('IdflowStatus', b, 'status'),
          );
        } catch (err) {
          expect(err).toBeInstanceOf(VisibilityValueError);
          expect((err as VisibilityValueError).field).toMatch(/^(subject|status)$/);
          expect([...(a + b)].some((c) => c < ' ' || c === '\u007f')).toBe(true);
          return;
        }
        expect(tokenize(query)).toEqual([
          { kind: 'word', text: 'IdflowFlow' },
          { kind: 'word', text: 'IS' },
          { kind: 'word', text: 'NOT' },
          { kind: 'word', text: 'NULL' },
          { kind: 'word', text: 'AND' },
          { kind: 'word', text: 'IdflowSubject' },
          { kind: 'op', text: '=' },
          { kind: 'string', value: a },
          { kind: 'word', text: 'AND' },
          { kind: 'word', text: 'IdflowStatus' },
          { kind: 'op', text: '=' },
          { kind: 'string', value: b },
        ]);
      },
    ),
    { numRuns: 2000 },
  );
});

test.each([
  ['p-1"', `'p-1"'`],
  ["x' OR IdflowFlow IS NOT NULL OR 'a", `'x\\' OR IdflowFlow IS NOT NULL OR \\'a'`],
  ['back\\slash', `'back\\\\slash'`],
])('%s is escaped', (value, expected) => {
  expect(literal(value)).toBe(expected);
});

test('control characters and overlong values are refused with the field named', () => {
  expect(() => visibilityQuery(equals('IdflowSubject', 'a\nb', 'subject'))).toThrow(
    'subject: must not contain control characters',
  );
  expect(() => literal('x'.repeat(1001), 'flow')).toThrow('flow: must be at most 1000 characters');
});

test.each(['p-1001', 'E1001', 'b-mgr', 'ada@corp.example', 'hr:42', 'a', 'A.b_c'])(
  '%s is a person id',
  (id) => {
    expect(isPersonId(id)).toBe(true);
    expect(PersonId.safeParse(id).success).toBe(true);
  },
);

test.each(['', 'p-1"', "p'1", 'p 1', '-p', 'a/b', 'p\n1', 'ü', 'x'.repeat(129), '.hidden'])(
  '%j is not a person id',
  (id) => {
    expect(isPersonId(id)).toBe(false);
    expect(PersonId.safeParse(id).success).toBe(false);
  },
);

describe('idflow runs list', () => {
  test('options become escaped clauses', () => {
    expect(
      runsQuery(cliFilter({ flow: 'joiner-standard', subject: 'p-1001', status: 'Parked' })),
    ).toBe(
      "IdflowFlow IS NOT NULL AND IdflowFlow = 'joiner-standard' AND IdflowSubject = 'p-1001' AND IdflowStatus = 'Parked'",
    );
  });

  test.each([
    [{ subject: 'p-1"' }, /^--person must be a person id/],
    [{ person: "x' OR 'a'='a" }, /^--person must be a person id/],
    [{ flow: "joiner' OR 'a'='a" }, /^--flow must be lowercase words/],
    [{ status: "Running' OR 'a'='a" }, /^--status must be one of Running, Waiting/],
    [{ eventType: 'person' }, /^--event-type must be a dotted event type/],
    [{ since: 'yesterday' }, /^--since must be an RFC 3339 timestamp/],
    [{ limit: '0' }, /^--limit must be a whole number from 1 to 200/],
    [{ person: 'p-1', subject: 'p-2' }, /--person or --subject/],
  ])('%j is refused', (options, message) => {
    expect(() => cliFilter(options)).toThrow(message);
  });
});
