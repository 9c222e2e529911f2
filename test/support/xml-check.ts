/**
 * A strict well-formedness check of an XML document, for tests of generated SVG: balanced
 * tags, one root, quoted attributes, only the five named entities and numeric references, no
 * raw `<` or `&` in text or attributes, and no character XML 1.0 forbids. Returns the problems.
 */

const FORBIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
const NAME = /^[A-Za-z_][\w.:-]*$/;
const ATTRIBUTE = /\s+([A-Za-z_][\w.:-]*)\s*=\s*"([^"<]*)"/y;

export function xmlProblems(doc: string): string[] {
  const problems: string[] = [];
  if (FORBIDDEN.test(doc)) problems.push('a character XML 1.0 forbids');
  let rest = doc.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  while (rest.length) {
    const lt = rest.indexOf('<');
    const text = lt < 0 ? rest : rest.slice(0, lt);
    if (ENTITY.test(text)) problems.push(`an unescaped & in text: ${text.slice(0, 40)}`);
    if (!stack.length && text.trim()) problems.push(`text outside the root: ${text.slice(0, 40)}`);
    if (lt < 0) break;
    rest = rest.slice(lt);
    if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->');
      if (end < 0) return [...problems, 'an unclosed comment'];
      rest = rest.slice(end + 3);
      continue;
    }
    const gt = rest.indexOf('>');
    if (gt < 0) return [...problems, 'an unclosed tag'];
    const tag = rest.slice(1, gt);
    rest = rest.slice(gt + 1);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const name = /^[^\s/]+/.exec(body)?.[0] ?? '';
    if (!NAME.test(name)) problems.push(`a bad tag name: ${name.slice(0, 40)}`);
    let attrs = body.slice(name.length);
    const seen = new Set<string>();
    ATTRIBUTE.lastIndex = 0;
    while (attrs.trim()) {
      ATTRIBUTE.lastIndex = 0;
      const m = ATTRIBUTE.exec(attrs);
      if (!m) {
        problems.push(`bad attributes in <${name}>: ${attrs.slice(0, 60)}`);
        break;
      }
      const [all, attr, value] = m as unknown as [string, string, string];
      if (seen.has(attr)) problems.push(`a repeated attribute ${attr} in <${name}>`);
      seen.add(attr);
      if (ENTITY.test(value)) problems.push(`an unescaped & in ${attr}`);
      attrs = attrs.slice(all.length);
    }
    if (!stack.length) roots++;
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
