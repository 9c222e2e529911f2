/**
 * The audit trail without a database: what a row's hash covers (a pinned vector an auditor's
 * own implementation can check against), checkpoint signatures, the query `GET /v1/audit` and
 * `idflow audit list|export` accept (every bad field named, never a crash), and the CSV export
 * read back by an RFC 4180 parser.
 */
import fc from 'fast-check';
import { asStoredJson, canonicalJson, chainHash, GENESIS_HASH } from '../../src/audit/chain';
import { checkpointProblem, signCheckpoint } from '../../src/audit/checkpoint';
import { AUDIT_CSV_COLUMNS, auditCsv, auditCsvRecord } from '../../src/audit/export';
import { generateCheckpointKeys, parsePrivateKey, parsePublicKey } from '../../src/audit/keys';
import { AuditQuerySchema, encodeCursor, queryProblems } from '../../src/audit/query';
import type { AuditRow } from '../../src/audit/verify';
import { auditQueryOf } from '../../src/cli/commands/audit';
import { fieldProblems } from '../../src/gateway/zod-problems';

const row: AuditRow = {
  seq: 42,
  at: new Date('2026-11-23T10:00:00.123Z'),
  actor: 'token:hr',
  action: 'event.received',
  target: 'person:p-1001',
  outcome: 'ok',
  detail: { source: 'workday', counts: { b: 2, a: 1 } },
  runId: null,
  dedupeKey: 'event.received:workday/e-1',
  prevHash: GENESIS_HASH,
  hash: null,
};

test('the canonical content sorts keys at every depth; the hash is pinned', () => {
  expect(canonicalJson({ b: [{ d: 1, c: null }], a: 'x' })).toBe(
    '{"a":"x","b":[{"c":null,"d":1}]}',
  );
  expect(canonicalJson(asStoredJson({ when: new Date(0), gone: undefined, n: 1.0 }))).toBe(
    '{"n":1,"when":"1970-01-01T00:00:00.000Z"}',
  );
  // docs/audit.md shows this row and its hash, for anyone checking the chain with other tools
  expect(chainHash(GENESIS_HASH, row)).toBe(
    '94299b794e239d9d67c045c108bfcc5036f695e5a46aa9e4ea903dca3e607b78',
  );
});

test('property: a detail hashes the same whatever order its keys were written in', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (detail) => {
      const reversed = Object.fromEntries(Object.entries(detail).reverse());
      expect(chainHash(GENESIS_HASH, { ...row, detail: asStoredJson(reversed) })).toBe(
        chainHash(GENESIS_HASH, { ...row, detail: asStoredJson(detail) }),
      );
    }),
    { numRuns: 200 },
  );
});

test('a checkpoint verifies with its public key, and not once a field or the key differs', () => {
  const keys = generateCheckpointKeys();
  const priv = parsePrivateKey(keys.privateKey);
  const pub = parsePublicKey(keys.publicKey);
  const signed = {
    id: 1,
    ...signCheckpoint(
      {
        at: new Date('2026-11-23T10:00:00.000Z'),
        headSeq: 10,
        headHash: 'a'.repeat(64),
        prunedThroughSeq: 10,
        rowsPruned: 10,
        actor: 'cli:auditor',
      },
      priv,
    ),
  };
  expect(signed.keyId).toBe(keys.id);
  expect(checkpointProblem(signed, [pub])).toBeUndefined();
  expect(checkpointProblem({ ...signed, rowsPruned: 9 }, [pub])).toMatch(
    /checkpoint #1's signature does not verify/,
  );
  const other = parsePublicKey(generateCheckpointKeys().publicKey);
  expect(checkpointProblem(signed, [other])).toMatch(`signed by key ${keys.id}`);
  expect(checkpointProblem(signed, [])).toMatch(/IDFLOW_AUDIT_PUBLIC_KEY/);
  expect(() => parsePrivateKey('not a key')).toThrow(/Ed25519 private key/);
  expect(() => parsePublicKey(keys.privateKey)).toThrow(/Ed25519 public key/);
});

/** The fields the 400 names (as the gateway lists them), without the pointer's slash. */
function problemFields(query: unknown): string[] {
  const parsed = AuditQuerySchema.safeParse(query);
  const problems = parsed.success ? queryProblems(parsed.data) : fieldProblems(parsed.error);
  return problems.map((p) => p.path.slice(1));
}

test('every bad field of the query is named', () => {
  expect(
    problemFields({
      actor: '',
      outcome: 'Not Ok',
      from: '2026-13-01',
      to: 'yesterday',
      order: 'sideways',
      limit: '0',
      cursor: '!!',
      format: 'xml',
      extra: '1',
    }).sort(),
  ).toEqual(['actor', 'cursor', 'extra', 'format', 'from', 'limit', 'order', 'outcome', 'to']);
  expect(problemFields({ actor: ['a', 'b'] })).toEqual(['actor']);
  expect(problemFields({ limit: '1001' })).toEqual(['limit']);
  expect(problemFields({ limit: '2.5' })).toEqual(['limit']);
  expect(problemFields({ cursor: encodeCursor('asc', 7).slice(1) })).toEqual(['cursor']);
  expect(problemFields({ cursor: 'zzz' })).toEqual(['cursor']);
  // a year PostgreSQL has not is the nearest it has, not an error
  expect(AuditQuerySchema.parse({ from: '0000-01-01' }).from?.toISOString()).toBe(
    '0001-01-01T00:00:00.000Z',
  );
  expect(problemFields({ from: '2026-11-02', to: '2026-11-01' })).toEqual(['to']);
  expect(problemFields({ cursor: encodeCursor('asc', 7) })).toEqual(['cursor']);
  expect(problemFields({ cursor: encodeCursor('asc', 7), order: 'asc' })).toEqual([]);
  expect(AuditQuerySchema.parse({ from: '2026-11-01', to: '2026-11-01T09:00:00+01:00' })).toEqual({
    order: 'desc',
    from: new Date('2026-11-01T00:00:00Z'),
    to: new Date('2026-11-01T08:00:00Z'),
  });
});

const FIELDS = [
  'actor',
  'action',
  'target',
  'run',
  'outcome',
  'from',
  'to',
  'order',
  'limit',
  'cursor',
  'format',
];

test('property: any query string is parsed or refused naming only fields it holds', () => {
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('2026-11-01', '2026-11-01T09:00:00Z', 'asc', 'desc', 'csv', '100', 'ok'),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.array(fc.string({ maxLength: 5 }), { minLength: 2, maxLength: 3 }),
  );
  const key = fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 8 }));
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (query) => {
      const parsed = AuditQuerySchema.safeParse(query);
      if (parsed.success && !queryProblems(parsed.data).length) {
        const q = parsed.data;
        if (q.limit !== undefined) expect(q.limit >= 1 && q.limit <= 1000).toBe(true);
        if (q.from && q.to) expect(q.from.getTime()).toBeLessThanOrEqual(q.to.getTime());
        for (const d of [q.from, q.to]) if (d) expect(Number.isNaN(d.getTime())).toBe(false);
        return;
      }
      const problems = parsed.success ? queryProblems(parsed.data) : fieldProblems(parsed.error);
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) {
        // one field, named by its pointer (`~` and `/` escaped)
        const name = p.path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
        expect(Object.keys(query)).toContain(name);
        expect(p.message.length).toBeGreaterThan(0);
      }
    }),
    { numRuns: 500 },
  );
});

test('the CLI refuses bad options by their names', () => {
  expect(() => auditQueryOf({ from: 'soon', limit: '0' })).toThrow(
    '--from must be an ISO 8601 date or date-time, like 2026-11-01 or 2026-11-01T09:00:00Z; --limit must be a whole number from 1 to 1000',
  );
  expect(auditQueryOf({ actor: 'cli:alice', order: 'asc' })).toEqual({
    actor: 'cli:alice',
    order: 'asc',
  });
});

/** RFC 4180: records of fields, quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' && field === '') {
      const end = (function close(from: number): number {
        let j = from;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new Error('unterminated quoted field');
          if (text[q + 1] === '"') j = q + 2;
          else return q;
        }
      })(i + 1);
      field = text.slice(i + 1, end).replace(/""/g, '"');
      i = end + 1;
      if (text[i] !== ',' && text.slice(i, i + 2) !== '\r\n')
        throw new Error(`text after a quoted field at ${i}`);
      continue;
    }
    if (ch === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (text.slice(i, i + 2) === '\r\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || record.length) throw new Error('the last record has no CRLF');
  return records;
}

/** What a spreadsheet shows for a text cell: a formula-looking text behind a quote. */
const defused = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

test('property: CSV records read back as the rows, formulas defused', async () => {
  const text = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.constantFrom('=SUM(A1)', '+1', '-2', '@cmd', 'a,b', 'say "hi"', 'two\r\nlines', '\tx'),
  );
  const auditRow = fc.record({
    seq: fc.integer({ min: 1, max: 2 ** 40 }),
    at: fc.date({ min: new Date(0), max: new Date('9999-01-01'), noInvalidDate: true }),
    actor: text,
    action: text,
    target: text,
    outcome: fc.constantFrom('ok', 'failed'),
    detail: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 })).map(asStoredJson),
    runId: fc.option(text, { nil: null }),
    dedupeKey: fc.option(text, { nil: null }),
    prevHash: fc.option(fc.constant(GENESIS_HASH), { nil: null }),
    hash: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(auditRow, { maxLength: 8 }), async (rows) => {
      let csv = '';
      for await (const chunk of auditCsv([rows])) csv += chunk;
      const [header, ...records] = parseCsv(csv);
      expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
      expect(records).toHaveLength(rows.length);
      rows.forEach((r, i) => {
        const rec = records[i] as string[];
        expect(rec).toEqual([
          String(r.seq),
          r.at.toISOString(),
          defused(r.actor),
          defused(r.action),
          defused(r.target),
          r.outcome,
          r.runId === null ? '' : defused(r.runId),
          r.dedupeKey === null ? '' : defused(r.dedupeKey),
          canonicalJson(r.detail),
          r.prevHash ?? '',
          r.hash ?? '',
        ]);
        expect(JSON.parse(rec[8] as string)).toEqual(r.detail);
      });
      expect(
        csv
          .split('\r\n')
          .slice(0, -1)
          .every((l) => !/^[=+\-@]/.test(l)),
      ).toBe(true);
    }),
    { numRuns: 200 },
  );
  expect(auditCsvRecord({ ...row, actor: '=cmd|"/c calc"!A1' })).toMatch(
    /^42,2026-11-23T10:00:00.123Z,"'=cmd\|""\/c calc""!A1",/,
  );
});
