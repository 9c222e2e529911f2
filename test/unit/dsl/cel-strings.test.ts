/**
 * CEL string functions count and cut on Unicode code points, as the CEL spec defines them, in
 * both environments (run time and the typed compile-time one): an emoji, a flag, a ZWJ sequence
 * or an astral-plane letter is never cut into a lone UTF-16 surrogate, and no expression or
 * rendered value ever yields one.
 */
import * as fc from 'fast-check';
import { Environment } from '@marcbachmann/cel-js';
import { CelTypes } from '../../../src/dsl/cel-check';
import { registerIdflowFunctions, useCodePointStrings } from '../../../src/dsl/cel-functions';
import {
  evaluateExpression,
  ExpressionError,
  renderValue,
  toCel,
} from '../../../src/dsl/cel-runtime';
import * as strings from '../../../src/dsl/cel-strings';
import { PERSON_SHAPE } from '../../../src/dsl/shapes';

const GRIN = '😀';
const FAMILY = '👩‍👩‍👧'; // 👩 ZWJ 👩 ZWJ 👧: five code points, one grapheme
const FLAG = '🇩🇪'; // two regional indicators
const E_ACUTE = 'e\u0301'; // e + combining acute accent
const SCRIPT_A = '𝒜'; // U+1D49C, an astral-plane letter
const LONE_HIGH = '\ud83d';

const run = (expression: string, scope: Record<string, unknown> = {}) =>
  evaluateExpression(expression, scope);
const lit = (text: string) => JSON.stringify(text);
const noLoneSurrogate = (text: string) => !/\p{Cs}/u.test(text);
/** Property runs: fewer under the mutation run, which repeats them for every mutant. */
const runs = (n: number) => ({ numRuns: process.env.STRYKER_MUTATOR_WORKER ? n / 5 : n });

describe('size counts code points', () => {
  test.each([
    ['😀nna', 4],
    [FAMILY, 5],
    [FLAG, 2],
    [E_ACUTE, 2],
    ['東京都', 3],
    [SCRIPT_A + 'b', 2],
    ['', 0],
  ])('size(%j) = %d', (text, n) => {
    expect(run(`size(${lit(text)})`)).toBe(n);
    expect(run(`${lit(text)}.size()`)).toBe(n);
    expect(run('s.size()', { s: text })).toBe(n);
  });
});

describe('substring cuts between code points', () => {
  test.each([
    ['😀nna', 0, 1, GRIN],
    ['😀nna', 1, 4, 'nna'],
    [FAMILY, 0, 1, '👩'],
    [FAMILY, 1, 2, '\u200d'],
    [FLAG, 0, 1, '🇩'],
    [FLAG, 1, 2, '🇪'],
    [E_ACUTE, 0, 1, 'e'],
    ['東京都', 1, 2, '京'],
    [SCRIPT_A + 'bc', 0, 2, SCRIPT_A + 'b'],
    ['abc', 1, 1, ''],
  ])('%j.substring(%d, %d) = %j', (text, start, end, expected) => {
    expect(run(`${lit(text)}.substring(${start}, ${end})`)).toBe(expected);
    expect(run('s.substring(i, j)', { s: text, i: BigInt(start), j: BigInt(end) })).toBe(expected);
  });

  test('one argument: from a code point to the end', () => {
    expect(run(`${lit(GRIN + GRIN + 'x')}.substring(1)`)).toBe(GRIN + 'x');
    expect(run(`${lit(GRIN)}.substring(1)`)).toBe('');
    expect(run('s.substring(i)', { s: '東京', i: 1n })).toBe('京');
  });

  test.each([
    ['"😀".substring(2)', /substring: start 2 is out of range for a text of 1 characters/],
    ['"abc".substring(-1)', /start -1 is out of range/],
    ['"😀a".substring(0, 3)', /substring: end 3 is out of range for a text of 2 characters/],
    ['"abc".substring(2, 1)', /end 1 is out of range/],
    ['"abc".substring(-1, 1)', /start -1/],
    ['"abc".substring(4, 4)', /start 4/],
  ])('%s is an ExpressionError', (expression, message) => {
    expect(() => run(expression)).toThrow(ExpressionError);
    expect(() => run(expression)).toThrow(message);
  });

  test('the ends are allowed: empty text, start = end = size', () => {
    expect(run('"".substring(0, 0)')).toBe('');
    expect(run('"😀".substring(1, 1)')).toBe('');
    expect(run('"😀".substring(0, 1)')).toBe(GRIN);
  });
});

describe('indexOf and lastIndexOf count code points', () => {
  test.each([
    ['"😀nna".indexOf("n")', 1],
    ['"😀😀a".indexOf("a")', 2],
    ['"a😀b😀".indexOf("😀")', 1],
    ['"東京都".indexOf("都")', 2],
    ['"abc".indexOf("x")', -1],
    ['"abc".indexOf("")', 0],
    ['"😀".indexOf("😀😀")', -1],
    ['"😀nna".indexOf("n", 2)', 2],
    ['"😀nna".indexOf("n", 3)', -1],
    ['"😀nna".indexOf("a", 3)', 3],
    ['"😀nna".indexOf("", 2)', 2],
    ['"a😀b😀".lastIndexOf("😀")', 3],
    ['"a😀b😀".lastIndexOf("")', 4],
    ['"a😀b😀".lastIndexOf("x")', -1],
    ['"a😀a😀".lastIndexOf("a", 1)', 0],
    ['"a😀a😀".lastIndexOf("a😀", 3)', 2],
    ['"a😀a😀".lastIndexOf("a", 3)', 2],
    ['"a😀a😀".lastIndexOf("", 2)', 2],
    ['"東京東京".lastIndexOf("東京", 1)', 0],
    ['"abc".indexOf("a", 0)', 0],
    ['"abc".lastIndexOf("a", 0)', 0],
    ['"ab".indexOf("", 5)', 5],
    ['"ab".lastIndexOf("", 9)', 9],
  ])('%s = %d', (expression, expected) => {
    expect(run(expression)).toBe(expected);
  });

  test.each([
    ['"😀a".indexOf("a", 2)', /indexOf: position 2 is out of range for a text of 2 characters/],
    ['"abc".indexOf("a", -1)', /position -1/],
    ['"😀a".lastIndexOf("a", 2)', /lastIndexOf: position 2 is out of range/],
    ['"abc".lastIndexOf("a", -1)', /position -1/],
  ])('%s is an ExpressionError', (expression, message) => {
    expect(() => run(expression)).toThrow(message);
  });

  test('an index found is where substring finds the text again', () => {
    const s = `${GRIN}Zoë ${FAMILY} ${FLAG}`;
    const at = run('s.indexOf(t)', { s, t: FLAG }) as number;
    expect(run('s.substring(i, i + size(t))', { s, t: FLAG, i: BigInt(at) })).toBe(FLAG);
  });
});

describe('lowerAscii and upperAscii change ASCII letters only', () => {
  test.each([
    ['ÀÉÎ ABC İ Ω Ö', 'ÀÉÎ abc İ Ω Ö'],
    ['😀NNA', '😀nna'],
    ['ＡＢＣ', 'ＡＢＣ'],
    ['K', 'k'],
    ['\u212a', '\u212a'], // KELVIN SIGN, which toLowerCase maps to ASCII k
  ])('%j.lowerAscii() = %j', (text, expected) => {
    expect(run(`${lit(text)}.lowerAscii()`)).toBe(expected);
    expect(run('s.lowerAscii()', { s: text })).toBe(expected);
  });

  test.each([
    ['àéî abc ß ω ı', 'àéî ABC ß ω ı'], // ß would become SS, ı would become I
    ['😀nna', '😀NNA'],
    ['zoë', 'ZOë'],
  ])('%j.upperAscii() = %j', (text, expected) => {
    expect(run(`${lit(text)}.upperAscii()`)).toBe(expected);
  });
});

describe('trim removes Unicode white space', () => {
  test.each([
    [' \t\n\v\f\r😀 x\u00a0\u3000', '😀 x'],
    ['\u0085\u1680\u2000\u200a\u2028\u2029\u202f\u205fx', 'x'],
    ['\u200bx\u200b', '\u200bx\u200b'], // zero-width space is not white space
    ['\ufeffx', '\ufeffx'], // nor is the byte order mark
    ['   ', ''],
    [`  ${E_ACUTE}  `, E_ACUTE],
  ])('%j.trim() = %j', (text, expected) => {
    expect(run(`${lit(text)}.trim()`)).toBe(expected);
  });
});

describe('split', () => {
  test.each([
    ['"a😀b".split("")', ['a', GRIN, 'b']],
    [`${lit(FAMILY)}.split("")`, ['👩', '\u200d', '👩', '\u200d', '👧']],
    ['"".split("")', []],
    ['"".split(",")', ['']],
    ['"a,😀,c".split(",")', ['a', GRIN, 'c']],
    ['"a,b,c".split(",", 2)', ['a', 'b,c']],
    ['"a,b,c".split(",", 0)', []],
    ['"a,b,c".split(",", 1)', ['a,b,c']],
    ['"a,b,c".split(",", 3)', ['a', 'b', 'c']],
    ['"a,b,c".split(",", 9)', ['a', 'b', 'c']],
    ['"a,b,c".split(",", -1)', ['a', 'b', 'c']],
    ['"😀😀😀".split("", 2)', [GRIN, GRIN + GRIN]],
  ])('%s', (expression, expected) => {
    expect(run(expression)).toEqual(expected);
  });
});

describe('replace', () => {
  test.each([
    ['"😀nna".replace("n", "m")', '😀mma'],
    ['"ab".replace("", "-")', '-a-b-'],
    ['"😀".replace("", "-")', '-😀-'],
    ['"".replace("", "x")', 'x'],
    ['"O\'Brien".replace("\'", "")', 'OBrien'],
    ['"a😀a".replace("😀", "")', 'aa'],
  ])('%s = %j', (expression, expected) => {
    expect(run(expression)).toBe(expected);
  });
});

describe('matches on code points', () => {
  test.each([
    ['"😀".matches("^.$")', true],
    ['"東京".matches("^.{2}$")', true],
    ['"👩‍👩‍👧".matches("^.{5}$")', true],
    ['"a_b".matches("a\\\\_b")', true], // a pattern only legacy syntax accepts keeps working
    ['"abc".matches("^b")', false],
  ])('%s = %s', (expression, expected) => {
    expect(run(expression)).toBe(expected);
  });

  test('an invalid pattern is an ExpressionError', () => {
    expect(() => run('"a".matches("(")')).toThrow(/not a valid regular expression/);
  });
});

test('functions that already worked on whole characters are unchanged', () => {
  expect(run('"😀nna".startsWith("😀")')).toBe(true);
  expect(run('"😀nna".endsWith("nna")')).toBe(true);
  expect(run('"😀nna".contains("😀n")')).toBe(true);
  expect(run('["😀", "東"].join("-")')).toBe('😀-東');
  expect(run('"Zoë 😀".asciiFold()')).toBe('Zoe 😀');
});

test('asciiFold spells out the letters decomposition does not reduce', () => {
  expect(run('"ß æ Æ œ Œ ø Ø ł Ł đ Đ þ Þ".asciiFold()')).toBe('ss ae AE oe OE o O l L d D th Th');
  expect(run('"Ｊｏｈｎ Ñúñez 😀".asciiFold()')).toBe('John Nunez 😀');
});

test('a joiner named with an emoji: initial, username and display name are whole', () => {
  const subject = toCel(
    { id: 'p-1', givenName: '😀nna', familyName: 'Łukasiewicz-Ørsted' },
    PERSON_SHAPE,
  );
  expect(
    run(
      '(subject.givenName.substring(0, 1) + subject.familyName).asciiFold().lowerAscii().replace("-", "")',
      { subject },
    ),
  ).toBe('😀lukasiewiczorsted');
  expect(run('subject.givenName.substring(0, 1) + ". " + subject.familyName', { subject })).toBe(
    '😀. Łukasiewicz-Ørsted',
  );
});

describe('the compile-time environment has the same functions', () => {
  const types = CelTypes.create({ name: 'string' });
  const extended = types.extend({
    person: { object: 'Probe', fields: { givenName: 'string' } },
  });

  test.each([
    ['name.substring(0, 1)', 'string'],
    ['name.substring(1)', 'string'],
    ['name.indexOf("x")', 'int'],
    ['name.indexOf("x", 1)', 'int'],
    ['name.lastIndexOf("x")', 'int'],
    ['name.lastIndexOf("x", 1)', 'int'],
    ['name.lowerAscii()', 'string'],
    ['name.upperAscii()', 'string'],
    ['name.trim()', 'string'],
    ['name.split("")', 'list<string>'],
    ['name.split("", 2)', 'list<string>'],
    ['name.matches("^.$")', 'bool'],
    ['name.replace("a", "b")', 'string'],
    ['name.asciiFold()', 'string'],
  ])('%s type-checks as %s, also in an extended environment', (expression, celType) => {
    expect(types.check(expression)).toMatchObject({ ok: true, celType });
    const onField = expression.replace('name', 'person.givenName');
    expect(extended.check(onField)).toMatchObject({ ok: true, celType });
  });

  test('a wrong argument type is still a type error', () => {
    expect(types.check('name.substring("0")')).toMatchObject({ ok: false });
  });
});

describe('useCodePointStrings', () => {
  test('replaces the UTF-16 overloads of a plain cel-js environment, and is idempotent', () => {
    const env = new Environment();
    expect((env.evaluate('"😀".substring(0, 1)') as string).length).toBe(1); // half an emoji
    useCodePointStrings(env);
    useCodePointStrings(env);
    expect(env.evaluate('"😀a".substring(0, 1)')).toBe(GRIN);
    expect(env.evaluate('"😀a".indexOf("a")')).toBe(1n);
  });

  test('a clone that registers a type rebuilds its overloads; applying again restores them', () => {
    const parent = registerIdflowFunctions(new Environment({ unlistedVariablesAreDyn: true }));
    const child = parent.clone();
    child.registerType('Probe', { ctor: class Probe {}, fields: { a: 'string' } });
    useCodePointStrings(child);
    expect(child.evaluate('"😀a".substring(1)')).toBe('a');
    expect(child.evaluate('"😀a".lastIndexOf("")')).toBe(2n);
    expect(parent.evaluate('"😀a".indexOf("a")')).toBe(1n);
  });
});

describe('no expression yields half a character', () => {
  const broken = toCel({ id: 'p-2', givenName: `${LONE_HIGH}nna`, familyName: 'X' }, PERSON_SHAPE);

  test('an expression giving a lone surrogate is an ExpressionError naming it, not quoting the text', () => {
    let error: unknown;
    try {
      run('subject.givenName.lowerAscii()', { subject: broken });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    const message = (error as ExpressionError).message;
    expect(message).toMatch(/^'subject.givenName.lowerAscii\(\)' gave text with half a character/);
    expect(message).not.toMatch(/nna/);
    expect(noLoneSurrogate(message)).toBe(true);
    expect((error as ExpressionError).expression).toBe('subject.givenName.lowerAscii()');
  });

  test('inside lists and maps the place is named', () => {
    expect(() => run('["a", subject.givenName]', { subject: broken })).toThrow(
      /^field '\[1\]': '\["a", subject.givenName\]' gave text with half a character/,
    );
    expect(() => run('{"a": {"b": subject.givenName}}', { subject: broken })).toThrow(
      /^field 'a.b': /,
    );
    expect(() => run('{subject.givenName: 1}', { subject: broken })).toThrow(/^field '\*': /);
  });

  test.each([
    [
      { map: { username: { expr: 'subject.givenName' } } },
      /^field 'username': 'subject.givenName'/,
    ],
    [
      { map: { attributes: { map: { initial: { expr: 'subject.givenName.substring(0, 1)' } } } } },
      /^field 'attributes.initial': 'subject.givenName.substring\(0, 1\)'/,
    ],
    [{ list: [{ lit: 'a' }, { expr: 'subject.givenName' }] }, /^field '\[1\]': /],
    [
      { map: { cn: { concat: ['Dear ', { expr: 'subject.givenName' }] } } },
      /^field 'cn': 'subject/,
    ],
    [{ map: { note: { concat: ['x', LONE_HIGH] } } }, /^field 'note': the text template gave/],
    [{ map: { note: { lit: `a${LONE_HIGH}` } } }, /^field 'note': the literal text gave/],
    [{ map: { [`k${LONE_HIGH}`]: { lit: 1 } } }, /^field 'k\ufffd': the field name gave/],
    [{ expr: 'subject.givenName' }, /^'subject.givenName' gave text with half a character/],
  ])('rendering %j names the field', (template, message) => {
    expect(() => renderValue(template as never, { subject: broken })).toThrow(ExpressionError);
    expect(() => renderValue(template as never, { subject: broken })).toThrow(message);
  });

  test('whole text, and broken text that is never output, render as before', () => {
    expect(
      renderValue(
        {
          map: {
            size: { expr: 'subject.givenName.size()' },
            name: { expr: 'subject.familyName' },
            text: { concat: [{ expr: '{"a": 1}' }, ' ', GRIN] },
          },
        },
        { subject: broken },
      ),
    ).toEqual({ size: 4, name: 'X', text: `{"a":1} ${GRIN}` });
  });
});

describe('properties', () => {
  /** Text made of the awkward cases: emoji, ZWJ sequences, flags, combining marks, CJK, astral. */
  const awkward = fc
    .array(
      fc.constantFrom(
        'a',
        'Z',
        'é',
        E_ACUTE,
        GRIN,
        FAMILY,
        FLAG,
        '東',
        '京',
        SCRIPT_A,
        '𐐷',
        ' ',
        '\u3000',
        'İ',
        'ß',
        ',',
        '-',
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(''));
  const text = fc.oneof(
    awkward,
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
  );

  /** A text and two code-point positions i <= j in it. */
  const cut = text.chain((s) => {
    const n = Array.from(s).length;
    return fc
      .tuple(fc.nat({ max: n }), fc.nat({ max: n }))
      .map(([a, b]) => ({ s, i: Math.min(a, b), j: Math.max(a, b) }));
  });

  test('size is the number of code points', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(run('size(s)', { s })).toBe(Array.from(s).length);
      }),
      runs(200),
    );
  });

  test('substring never cuts a character, and the pieces give the text back', () => {
    fc.assert(
      fc.property(cut, ({ s, i, j }) => {
        const scope = { s, i: BigInt(i), j: BigInt(j) };
        const middle = run('s.substring(i, j)', scope) as string;
        expect(noLoneSurrogate(middle)).toBe(true);
        expect(Array.from(middle)).toHaveLength(j - i);
        expect(run('s.substring(0, i) + s.substring(i, j) + s.substring(j)', scope)).toBe(s);
      }),
      runs(300),
    );
  });

  test('indexOf finds a piece at or before where it was cut from', () => {
    fc.assert(
      fc.property(cut, ({ s, i, j }) => {
        const t = strings.substring(s, i, j);
        const at = run('s.indexOf(t)', { s, t }) as number;
        const last = run('s.lastIndexOf(t)', { s, t }) as number;
        expect(at).toBeLessThanOrEqual(i);
        expect(last).toBeGreaterThanOrEqual(i);
        expect(strings.substring(s, at, at + j - i)).toBe(t);
        expect(strings.substring(s, last, last + j - i)).toBe(t);
      }),
      runs(200),
    );
  });

  test('lowerAscii and upperAscii keep every character but ASCII letters', () => {
    fc.assert(
      fc.property(text, (s) => {
        for (const [fn, pattern] of [
          ['lowerAscii', /[A-Z]/],
          ['upperAscii', /[a-z]/],
        ] as const) {
          const out = Array.from(run(`s.${fn}()`, { s }) as string);
          const before = Array.from(s);
          expect(out).toHaveLength(before.length);
          out.forEach((c, k) => {
            const original = before[k] as string;
            if (pattern.test(original)) expect(c.toLowerCase()).toBe(original.toLowerCase());
            else expect(c).toBe(original);
          });
        }
      }),
      runs(200),
    );
  });

  test('split, replace and trim keep characters whole', () => {
    fc.assert(
      fc.property(text, fc.constantFrom('', ',', GRIN, 'a'), (s, sep) => {
        const parts = run('s.split(sep)', { s, sep }) as string[];
        expect(parts.every(noLoneSurrogate)).toBe(true);
        expect(parts.join(sep)).toBe(s);
        expect(noLoneSurrogate(run('s.replace(sep, "-")', { s, sep }) as string)).toBe(true);
        const trimmed = run('s.trim()', { s }) as string;
        expect(noLoneSurrogate(trimmed)).toBe(true);
        expect(s.includes(trimmed)).toBe(true);
      }),
      runs(200),
    );
  });

  test('any text in, whole text or an ExpressionError out', () => {
    const units = fc.string({
      unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((u) => String.fromCharCode(u)),
      maxLength: 6,
    });
    fc.assert(
      fc.property(units, fc.nat({ max: 6 }), (s, i) => {
        try {
          const out = run('s.substring(0, i)', { s, i: BigInt(Math.min(i, Array.from(s).length)) });
          expect(noLoneSurrogate(out as string)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
        }
      }),
      runs(300),
    );
  });
});

describe('runs replaying evaluations made before code points (utf16) evaluate as they ran', () => {
  const utf16 = { utf16: true };

  test.each([
    ['"😀nna".substring(0, 1)', LONE_HIGH],
    ['"😀a".indexOf("a")', 2],
    ['"ÖA".lowerAscii()', 'öa'],
    ['"ab".replace("", "-")', 'a-b'],
    ['"😀".matches("^.$")', false],
  ])('%s = %j', (expression, expected) => {
    expect(evaluateExpression(expression, {}, utf16)).toEqual(expected);
  });

  test('and render text with half a character as they did', () => {
    expect(
      renderValue({ map: { initial: { expr: '"😀nna".substring(0, 1)' } } }, {}, utf16),
    ).toEqual({ initial: LONE_HIGH });
    expect(renderValue({ lit: `a${LONE_HIGH}` }, {}, utf16)).toBe(`a${LONE_HIGH}`);
  });
});
