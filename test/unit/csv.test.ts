/**
 * Report attachments as CSV: columns in the order keys first appear, RFC 4180 quoting, text
 * that a spreadsheet would run as a formula defused, numbers (negative ones too) as they are.
 */
import fc from 'fast-check';
import { toCsv } from '../../src/notify/csv';

test('columns in first-appearance order, quoting, formulas defused, numbers as they are', () => {
  expect(
    toCsv([
      { account: 'jdoe', days: -7, note: '=HYPERLINK("x")' },
      { account: 'a,b', extra: 'line\nbreak', days: 3 },
    ]),
  ).toBe(
    'account,days,note,extra\r\n' +
      `jdoe,-7,"'=HYPERLINK(""x"")",\r\n` +
      '"a,b",3,,"line\nbreak"\r\n',
  );
  expect(toCsv([{ a: '-1' }, { a: '+x' }, { a: '@y' }])).toBe("a\r\n'-1\r\n'+x\r\n'@y\r\n");
  expect(toCsv([{ a: null, b: true, c: { d: 1 } }])).toBe('a,b,c\r\n,true,"{""d"":1}"\r\n');
  expect(() => toCsv({ a: 1 })).toThrow('rows must be a list of maps');
  expect(() => toCsv([1])).toThrow('row 0 must be a map');
});

/** Reads back one line of fields written by toCsv (quoted fields may hold commas and quotes). */
function fields(line: string): string[] {
  const out: string[] = [];
  const re = /("((?:[^"]|"")*)"|[^,]*)(,|$)/g;
  for (let m = re.exec(line); m && m.index < line.length + 1; m = re.exec(line)) {
    out.push(m[2] !== undefined ? m[2].replace(/""/g, '"') : (m[1] ?? ''));
    if (m[3] === '') break;
  }
  return out;
}

test('property: every number comes back as written; no text cell starts a formula', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          n: fc.integer({ min: -1e9, max: 1e9 }),
          t: fc.string({ maxLength: 12 }).filter((s) => !/[\r\n"]/.test(s)),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      (rows) => {
        const lines = toCsv(rows).split('\r\n').slice(1, -1);
        lines.forEach((line, i) => {
          const [n, t] = fields(line);
          expect(n).toBe(String(rows[i]?.n));
          expect(t).not.toMatch(/^[=+\-@\t]/);
        });
      },
    ),
    { numRuns: 200 },
  );
});
