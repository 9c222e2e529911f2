/**
 * Text as diagrams draw it: step titles are user text (quotes, brackets, `<`, newlines, emoji,
 * any script), so every string is cleaned once here, measured with a monospace estimate (no
 * browser lays it out), wrapped, and escaped for XML.
 */

/** Control characters, lone surrogates and the two XML non-characters: never valid in XML 1.0. */
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** One line of display text: whitespace runs (newlines too) become one space, the unsafe `?`. */
export function cleanText(text: string): string {
  return text.replace(/\s+/g, ' ').replace(UNSAFE, '?').trim();
}

/** Display columns of one code point: 0 for combining marks and joiners, 2 for wide ones. */
function columns(cp: number): number {
  if (
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x20d0 && cp <= 0x20ff)
  )
    return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f000 && cp <= 0x1faff) ||
    cp >= 0x20000
  )
    return 2;
  return 1;
}

/** Width of `text` in monospace columns (a wide character counts two). */
export function textColumns(text: string): number {
  let n = 0;
  for (const ch of text) n += columns(ch.codePointAt(0) ?? 0);
  return n;
}

/** `text` cut to at most `max` columns, with `…` when it was cut. */
export function truncate(text: string, max: number): string {
  return textColumns(text) <= max ? text : ellipsis(text, max);
}

/** The head of `text` that fits in `max - 1` columns, and `…`. */
function ellipsis(text: string, max: number): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    const w = columns(ch.codePointAt(0) ?? 0);
    if (n + w > max - 1) break;
    out += ch;
    n += w;
  }
  return `${out}…`;
}

/**
 * `text` wrapped at word boundaries into lines of at most `width` columns (a longer word is
 * split), at most `maxLines` lines, the last one ending in `…` when text was left out.
 */
export function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  const push = (word: string) => {
    const candidate = line ? `${line} ${word}` : word;
    if (textColumns(candidate) <= width) {
      line = candidate;
      return;
    }
    if (line) lines.push(line);
    line = '';
    let rest = word;
    while (textColumns(rest) > width) {
      let head = '';
      let n = 0;
      for (const ch of rest) {
        const w = columns(ch.codePointAt(0) ?? 0);
        if (n + w > width) break;
        head += ch;
        n += w;
      }
      if (!head) head = Array.from(rest)[0] ?? '';
      lines.push(head);
      rest = rest.slice(head.length);
    }
    line = rest;
  };
  for (const word of cleanText(text).split(' ')) if (word) push(word);
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = ellipsis(`${kept[maxLines - 1] ?? ''} ${lines[maxLines] ?? ''}`, width);
  return kept;
}

const XML: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** `text` safe inside an XML element or a double-quoted attribute. */
export function xml(text: string): string {
  return text.replace(UNSAFE, '?').replace(/[&<>"']/g, (c) => XML[c] ?? c);
}
