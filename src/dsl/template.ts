/**
 * Value templates: strings in definitions may interpolate CEL with `${expr}`; `$${` writes a
 * literal `${`. The scanner understands CEL string literals and nested braces, so
 * `${ {"a": "}"}.a }` is one interpolation. Node-free.
 */

export type Segment = { text: string } | { expr: string; offset: number };

export type TemplateParse =
  { ok: true; segments: Segment[] } | { ok: false; message: string; offset: number };

/** Index just past the CEL string literal starting at `start` (a quote, maybe after r/R). */
function skipString(s: string, start: number): number {
  let i = start;
  let raw = false;
  if (s[i] === 'r' || s[i] === 'R') {
    raw = true;
    i++;
  }
  const quote = s[i] as string;
  const triple = s.startsWith(quote.repeat(3), i);
  const close = triple ? quote.repeat(3) : quote;
  i += close.length;
  while (i < s.length) {
    if (!raw && s[i] === '\\') {
      i += 2;
      continue;
    }
    if (s.startsWith(close, i)) return i + close.length;
    if (!triple && s[i] === '\n') return i;
    i++;
  }
  return i;
}

/** Splits `s` into text and `${…}` expression segments. */
export function parseTemplate(s: string): TemplateParse {
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      text += '${';
      i += 3;
      continue;
    }
    if (!s.startsWith('${', i)) {
      text += s[i];
      i++;
      continue;
    }
    const open = i;
    let j = i + 2;
    let depth = 1;
    while (j < s.length && depth > 0) {
      const c = s[j];
      const quoteAhead = (c === 'r' || c === 'R') && (s[j + 1] === '"' || s[j + 1] === "'");
      if (c === '"' || c === "'" || (quoteAhead && !/[\w.]/.test(s[j - 1] ?? ''))) {
        j = skipString(s, j);
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') depth--;
      j++;
    }
    if (depth > 0)
      return { ok: false, message: "unterminated '${': add the closing '}'", offset: open };
    const expr = s.slice(open + 2, j - 1);
    if (expr.trim() === '')
      return { ok: false, message: "empty '${}': write an expression inside", offset: open };
    if (text) segments.push({ text });
    text = '';
    segments.push({ expr, offset: open + 2 });
    i = j;
  }
  if (text || segments.length === 0) segments.push({ text });
  return { ok: true, segments };
}

/** True when `s` contains at least one interpolation. */
export function hasInterpolation(s: string): boolean {
  const parsed = parseTemplate(s);
  return !parsed.ok || parsed.segments.some((seg) => 'expr' in seg);
}
