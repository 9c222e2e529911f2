import { parseTemplate } from '../../../src/dsl/template';

test('plain text is one text segment', () => {
  expect(parseTemplate('Left the company')).toEqual({
    ok: true,
    segments: [{ text: 'Left the company' }],
  });
});

test('interpolations are split out with their offsets', () => {
  expect(parseTemplate('Hi ${subject.givenName}, bye')).toEqual({
    ok: true,
    segments: [{ text: 'Hi ' }, { expr: 'subject.givenName', offset: 5 }, { text: ', bye' }],
  });
});

test('braces and quotes inside an expression do not end it', () => {
  const parsed = parseTemplate('${ {"a": "}"}.a + \'{\' } tail');
  expect(parsed).toEqual({
    ok: true,
    segments: [{ expr: ' {"a": "}"}.a + \'{\' ', offset: 2 }, { text: ' tail' }],
  });
});

test('$${ writes a literal ${', () => {
  expect(parseTemplate('cost: $${amount}')).toEqual({
    ok: true,
    segments: [{ text: 'cost: ${amount}' }],
  });
});

test('an unterminated or empty interpolation is an error at its position', () => {
  expect(parseTemplate('abc ${subject.id')).toEqual({
    ok: false,
    message: "unterminated '${': add the closing '}'",
    offset: 4,
  });
  expect(parseTemplate('x ${ }')).toMatchObject({ ok: false, offset: 2 });
});
