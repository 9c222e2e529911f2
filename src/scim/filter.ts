/**
 * SCIM filters (RFC 7644 §3.4.2.2), parsed into a tree (filter-match.ts matches it against a
 * resource or one value of a multi-valued attribute).
 * Operators, attribute names and `true`/`false`/`null` compare without case; `and` binds tighter
 * than `or`. Besides the RFC's grammar, `emails[type eq "work"].value eq "x"` (what Entra ID
 * sends) reads as `emails[type eq "work" and value eq "x"]`. Errors are `invalidFilter` and
 * name the position and what was expected, never a value from the filter.
 */
import { badRequest } from './errors';

/** The longest filter idflow reads. */
export const MAX_FILTER_LENGTH = 2048;
/** How deep parentheses, `not` and `[…]` may nest. */
export const MAX_FILTER_DEPTH = 16;

export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export type Literal = string | number | boolean | null;

/** `[urn:]attr[.sub]`: an attribute, relative to the resource or to a multi-valued value. */
export interface AttrPath {
  urn?: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Literal }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

interface Token {
  kind: '(' | ')' | '[' | ']' | 'string' | 'word';
  text: string;
  at: number;
}

const NAME = '[A-Za-z$][A-Za-z0-9_$-]*';
const ATTR_PATH = new RegExp(`^(?:([Uu][Rr][Nn]:[A-Za-z0-9._:-]+):)?(${NAME})(?:\\.(${NAME}))?$`);
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function invalid(detail: string): never {
  throw badRequest('invalidFilter', `the filter is not valid: ${detail}`);
}

/** `[urn:]attr[.sub]`, or undefined when `text` is no attribute path. */
export function parseAttrPath(text: string): AttrPath | undefined {
  const m = ATTR_PATH.exec(text);
  if (!m) return undefined;
  const [, urn, attr, sub] = m;
  return { ...(urn ? { urn } : {}), attr: attr as string, ...(sub ? { sub } : {}) };
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s+|([()[\]])|("(?:[^"\\]|\\.)*")|([^\s()[\]"]+)|(")/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    const at = m.index;
    if (m[1]) tokens.push({ kind: m[1] as Token['kind'], text: m[1], at });
    else if (m[2]) tokens.push({ kind: 'string', text: m[2], at });
    else if (m[3]) tokens.push({ kind: 'word', text: m[3], at });
    else if (m[4]) invalid(`a string opened at character ${at + 1} is never closed`);
  }
  return tokens;
}

const KEYWORDS = new Set([...COMPARE_OPS, 'pr', 'and', 'or', 'not', 'true', 'false', 'null']);

/** What a token is, as an error may say it: keywords and brackets, never a word a client wrote. */
function describe(token: Token | undefined): string {
  if (!token) return 'the end of the filter';
  const where = `at character ${token.at + 1}`;
  if (token.kind === 'string') return `a string ${where}`;
  if (token.kind !== 'word') return `'${token.text}' ${where}`;
  return KEYWORDS.has(token.text.toLowerCase()) ? `'${token.text}' ${where}` : `a word ${where}`;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  keyword(word: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.text.toLowerCase() === word;
  }

  expect(kind: Token['kind'], what: string): Token {
    const t = this.peek();
    if (t?.kind !== kind) invalid(`expected ${what}, found ${describe(t)}`);
    this.i++;
    return t;
  }

  done(): void {
    if (this.i < this.tokens.length) invalid(`unexpected ${describe(this.peek())}`);
  }

  or(depth: number, inner: boolean): Filter {
    let left = this.and(depth, inner);
    while (this.keyword('or')) {
      this.i++;
      left = { kind: 'or', left, right: this.and(depth, inner) };
    }
    return left;
  }

  and(depth: number, inner: boolean): Filter {
    let left = this.unary(depth, inner);
    while (this.keyword('and')) {
      this.i++;
      left = { kind: 'and', left, right: this.unary(depth, inner) };
    }
    return left;
  }

  unary(depth: number, inner: boolean): Filter {
    if (depth >= MAX_FILTER_DEPTH) invalid(`it nests deeper than ${MAX_FILTER_DEPTH} levels`);
    if (this.keyword('not')) {
      this.i++;
      this.expect('(', "'(' after not");
      const filter = this.or(depth + 1, inner);
      this.expect(')', "')'");
      return { kind: 'not', filter };
    }
    if (this.peek()?.kind === '(') {
      this.i++;
      const filter = this.or(depth + 1, inner);
      this.expect(')', "')'");
      return filter;
    }
    return this.attrExp(depth, inner);
  }

  attrExp(depth: number, inner: boolean): Filter {
    const token = this.expect('word', 'an attribute name');
    const path = parseAttrPath(token.text);
    if (!path) invalid(`expected an attribute name, found ${describe(token)}`);
    if (this.peek()?.kind === '[') {
      const at = `'[' at character ${(this.peek() as Token).at + 1}`;
      if (inner) invalid(`${at}: a filter inside '[…]' cannot hold another`);
      if (path.sub) invalid(`${at} cannot follow a sub-attribute`);
      this.i++;
      const filter = this.or(depth + 1, true);
      this.expect(']', "']'");
      const next = this.peek();
      if (next?.kind === 'word' && next.text.startsWith('.')) {
        this.i++;
        const sub = parseAttrPath(next.text.slice(1));
        if (!sub || sub.urn || sub.sub)
          invalid(`expected a sub-attribute, found ${describe(next)}`);
        const tail = this.comparison({ attr: sub.attr });
        return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: tail } };
      }
      return { kind: 'valuePath', path, filter };
    }
    return this.comparison(path);
  }

  comparison(path: AttrPath): Filter {
    const token = this.expect('word', 'an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)');
    const op = token.text.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    if (!(COMPARE_OPS as readonly string[]).includes(op))
      invalid(
        `expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found ${describe(token)}`,
      );
    const value = this.literal();
    const kind = value === null ? 'null' : typeof value;
    if (['co', 'sw', 'ew'].includes(op) && kind !== 'string')
      invalid(`${op} at character ${token.at + 1} compares with a string only`);
    if (['gt', 'ge', 'lt', 'le'].includes(op) && kind !== 'string' && kind !== 'number')
      invalid(`${op} at character ${token.at + 1} compares with a string or a number only`);
    return { kind: 'compare', path, op: op as CompareOp, value };
  }

  literal(): Literal {
    const t = this.peek();
    const what = 'a value (a "string", a number, true, false or null)';
    if (t?.kind === 'string') {
      this.i++;
      try {
        return JSON.parse(t.text) as string;
      } catch {
        invalid(`the string at character ${t.at + 1} has an escape JSON does not know`);
      }
    }
    if (t?.kind !== 'word') invalid(`expected ${what}, found ${describe(t)}`);
    this.i++;
    const word = t.text.toLowerCase();
    if (word === 'true' || word === 'false') return word === 'true';
    if (word === 'null') return null;
    if (NUMBER.test(t.text) && Number.isFinite(Number(t.text))) return Number(t.text);
    // a word where a value belongs may be one, unquoted: never shown
    invalid(`expected ${what}, found a word that is none at character ${t.at + 1}`);
  }
}

/** Parses a filter (the `filter` query parameter, or the part of a PATCH path in `[…]`). */
export function parseFilter(text: string, options: { inner?: boolean } = {}): Filter {
  if (text.length > MAX_FILTER_LENGTH) invalid(`it is longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens = lex(text);
  if (tokens.length === 0) invalid('it is empty');
  const parser = new Parser(tokens);
  const filter = parser.or(0, options.inner ?? false);
  parser.done();
  return filter;
}
