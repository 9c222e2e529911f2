/**
 * YAML sources: parsing files into documents (several per file), and mapping a path inside a
 * document back to the line and column it came from, so every diagnostic points at the text.
 */
import {
  Composer,
  Lexer,
  LineCounter,
  Parser,
  visit,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Alias,
  type CST,
  type Document,
  type Node,
} from 'yaml';
import { diagnostic, fileDiagnostic, toPointer, type Diagnostic, type Path } from './diagnostics';
import {
  formatBytes,
  MAX_ALIAS_EXPANSION,
  MAX_ALIASES,
  MAX_DOCUMENTS,
  MAX_FILE_BYTES,
  MAX_ITEMS,
  MAX_NESTING,
} from './limits';

export interface SourceFile {
  /** The path as shown in diagnostics (relative to the working directory). */
  path: string;
  text: string;
  lines: LineCounter;
}

export interface SourceDocument {
  file: SourceFile;
  /** Position of the document in its file, from 0. */
  index: number;
  doc: Document.Parsed;
  /** The document as plain data. */
  data: unknown;
  /** What each alias of the document refers to, resolved once. */
  aliases?: ReadonlyMap<Alias, Node>;
}

type Range = readonly [number, number, ...number[]];

function position(file: SourceFile, offset: number): { line: number; col: number } {
  return file.lines.linePos(Math.max(0, Math.min(offset, file.text.length)));
}

/** A diagnostic spanning `range` in `file`. */
export function diagnosticAtRange(
  file: SourceFile,
  range: Range,
  code: string,
  message: string,
  pointer?: string,
): Diagnostic {
  const start = position(file, range[0]);
  const end = position(file, Math.max(range[0], range[1]));
  return diagnostic({
    file: file.path,
    line: start.line,
    column: start.col,
    endLine: end.line,
    endColumn: end.col,
    ...(pointer === undefined ? {} : { pointer }),
    code,
    message,
  });
}

function resolve(node: unknown, sd: SourceDocument): unknown {
  return isAlias(node) ? (sd.aliases?.get(node) ?? node.resolve(sd.doc)) : node;
}

interface Found {
  node?: Node;
  key?: Node;
}

/** The deepest node along `path` (and the key node of its last step, for maps). */
function find(sd: SourceDocument, path: Path): Found {
  let current: unknown = sd.doc.contents;
  let found: Found = isScalar(current) || isMap(current) || isSeq(current) ? { node: current } : {};
  for (const seg of path) {
    current = resolve(current, sd);
    if (isMap(current)) {
      const pair = current.items.find((p) => {
        const key = isScalar(p.key) ? p.key.value : p.key;
        return String(key) === String(seg);
      });
      if (!pair) return found;
      const value = resolve(pair.value, sd);
      const keyNode = pair.key as Node;
      found = { key: keyNode, node: (value as Node | null) ?? keyNode };
      current = value;
    } else if (isSeq(current) && typeof seg === 'number') {
      const item = resolve(current.items[seg], sd) as Node | undefined;
      if (!item) return found;
      found = { node: item };
      current = item;
    } else {
      return found;
    }
  }
  return found;
}

export interface LocateOptions {
  /** Point at the key of the last path segment instead of its value (unknown keys). */
  key?: boolean;
  /** Point inside a string value: at `offset` within `text`, a part of the value. */
  within?: { text: string; offset: number; length: number };
}

/** A diagnostic at `path` in `sd`, falling back to the nearest enclosing node. */
export function diagnosticAt(
  sd: SourceDocument,
  path: Path,
  code: string,
  message: string,
  options: LocateOptions = {},
): Diagnostic {
  const pointer = toPointer(path);
  const { node, key } = find(sd, path);
  const target = options.key && key ? key : node;
  const range: Range = target?.range ? [target.range[0], target.range[1]] : [0, 0];
  if (options.within && target && isScalar(target) && target.range) {
    const raw = sd.file.text.slice(target.range[0], target.range[1]);
    const at = raw.indexOf(options.within.text);
    if (at >= 0) {
      const start = target.range[0] + at + options.within.offset;
      return diagnosticAtRange(
        sd.file,
        [start, start + options.within.length],
        code,
        message,
        pointer,
      );
    }
  }
  return diagnosticAtRange(sd.file, range, code, message, pointer);
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/** A likely cause of a YAML syntax error: `${…}` unquoted inside a `{ … }` flow mapping. */
function hint(file: SourceFile, offset: number): string {
  const line = file.lines.linePos(offset).line;
  const start = file.lines.lineStarts[line - 1] ?? 0;
  const end = file.lines.lineStarts[line] ?? file.text.length;
  const text = file.text.slice(start, end);
  return /[{[][^}\]]*[^'"]\$\{/.test(text)
    ? "; inside { … } or [ … ], a value with ${…} must be quoted, like '${subject.id}'"
    : '';
}

interface Problem {
  range: Range;
  code: string;
  message: string;
}

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * The file's syntax tokens, read with the parser's own lexer one token at a time so the
 * nesting and document limits stop it early: nothing recursive runs on a document that nests
 * too deep, and a file of a million `---` is not read to its end.
 */
function tokenize(file: SourceFile): { tokens: CST.Token[] } | { problem: Problem } {
  const parser = new Parser(file.lines.addNewLine);
  file.lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  let documents = 0;
  const take = (token: CST.Token): Problem | undefined => {
    if (token.type === 'document' && ++documents > MAX_DOCUMENTS) {
      return {
        range: [token.offset, token.offset],
        code: 'too-many-documents',
        message: `this file has more than ${MAX_DOCUMENTS} YAML documents; idflow reads at most ${MAX_DOCUMENTS} per file, so split it into several files`,
      };
    }
    tokens.push(token);
    return undefined;
  };
  let lexemes = 0;
  for (const lexeme of new Lexer().lex(file.text)) {
    for (const token of parser.next(lexeme)) {
      const problem = take(token);
      if (problem) return { problem };
    }
    // A collection grows by one entry per few lexemes, so looking now and then finds one that
    // is too long while it is still open.
    if (++lexemes % 256 === 0) {
      const long = parser.stack.find(
        (t) => COLLECTIONS.has(t.type) && (t as { items: unknown[] }).items.length > MAX_ITEMS,
      );
      if (long) {
        return {
          problem: {
            range: [long.offset, long.offset + 1],
            code: 'too-many-items',
            message: `this mapping or list has more than ${MAX_ITEMS} entries; idflow reads at most ${MAX_ITEMS} in one, so split it`,
          },
        };
      }
    }
    if (parser.stack.length > MAX_NESTING) {
      const open = parser.stack.filter((t) => COLLECTIONS.has(t.type));
      const deepest = open[MAX_NESTING];
      if (deepest) {
        return {
          problem: {
            range: [deepest.offset, deepest.offset + 1],
            code: 'too-deep',
            message: `mappings and lists nest more than ${MAX_NESTING} levels deep here; idflow reads at most ${MAX_NESTING} levels`,
          },
        };
      }
    }
  }
  for (const token of parser.end()) {
    const problem = take(token);
    if (problem) return { problem };
  }
  return { tokens };
}

interface Measure {
  /** Nodes, aliases expanded. */
  size: number;
  /** Nesting of mappings and lists, aliases expanded. */
  depth: number;
}

function children(node: Node, aliases: ReadonlyMap<Alias, Node>): Node[] {
  if (isAlias(node)) {
    const target = aliases.get(node);
    return target ? [target] : [];
  }
  if (isMap(node) || isSeq(node)) {
    const out: Node[] = [];
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        if (item.key && typeof item.key === 'object') out.push(item.key as Node);
        if (item.value && typeof item.value === 'object') out.push(item.value as Node);
      } else if (item && typeof item === 'object') out.push(item as Node);
    }
    return out;
  }
  return [];
}

/** Size and depth of every node with aliases expanded, computed without recursion. */
function measure(root: Node, aliases: ReadonlyMap<Alias, Node>): Map<Node, Measure> {
  const known = new Map<Node, Measure>();
  const stack: Array<{ node: Node; ready: boolean }> = [{ node: root, ready: false }];
  while (stack.length) {
    const top = stack.pop() as { node: Node; ready: boolean };
    if (known.has(top.node)) continue;
    const kids = children(top.node, aliases);
    if (!top.ready) {
      stack.push({ node: top.node, ready: true });
      for (const kid of kids) if (!known.has(kid)) stack.push({ node: kid, ready: false });
      continue;
    }
    const measured = kids.map((k) => known.get(k) ?? { size: 1, depth: 0 });
    const size = measured.reduce((sum, m) => sum + m.size, 0);
    const depth = Math.max(0, ...measured.map((m) => m.depth));
    known.set(
      top.node,
      isAlias(top.node)
        ? { size, depth }
        : isScalar(top.node)
          ? { size: 1, depth: 0 }
          : {
              size: size + 1,
              depth: depth + 1,
            },
    );
  }
  return known;
}

/**
 * Resolves every alias once, in document order (an alias refers to the last anchor of its name
 * before it), and checks what aliases may do: too many, one inside the node it refers to, an
 * expansion far larger than the text ("billion laughs"), or nesting deeper than the limit.
 */
function checkAliases(doc: Document.Parsed): { aliases: Map<Alias, Node>; problem?: Problem } {
  const anchors = new Map<string, Node>();
  const aliases = new Map<Alias, Node>();
  let count = 0;
  let written = 0;
  let problem: Problem | undefined;
  const aliasProblem = (alias: Alias, code: string, message: string): Problem => ({
    range: alias.range ? [alias.range[0], alias.range[1]] : [0, 0],
    code,
    message,
  });
  visit(doc, {
    Node(_, node) {
      written++;
      if (!isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
        return undefined;
      }
      if (++count > MAX_ALIASES) {
        problem = aliasProblem(
          node,
          'yaml-aliases',
          `this document has more than ${MAX_ALIASES} YAML aliases; idflow reads at most ${MAX_ALIASES}, so write the values out instead`,
        );
        return visit.BREAK;
      }
      const target = anchors.get(node.source);
      if (!target) return undefined;
      aliases.set(node, target);
      if (
        target.range &&
        node.range &&
        node.range[0] >= target.range[0] &&
        node.range[0] < target.range[2]
      ) {
        problem = aliasProblem(
          node,
          'yaml-cycle',
          `YAML alias *${node.source} refers to a node that contains it, so the document would contain itself; repeat the values instead`,
        );
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const root = doc.contents as Node | null;
  if (problem || !root || aliases.size === 0) return { aliases, ...(problem ? { problem } : {}) };
  const measured = measure(root, aliases);
  const whole = measured.get(root) as Measure;
  if (whole.size - written > MAX_ALIAS_EXPANSION) {
    const [largest] = [...aliases.keys()].sort(
      (a, b) => (measured.get(b)?.size ?? 0) - (measured.get(a)?.size ?? 0),
    );
    const alias = largest as Alias;
    return {
      aliases,
      problem: aliasProblem(
        alias,
        'yaml-aliases',
        `YAML aliases such as *${alias.source} would add more than ${MAX_ALIAS_EXPANSION} nodes to this document when expanded (aliases of aliases multiply); write the values out instead`,
      ),
    };
  }
  if (whole.depth > MAX_NESTING) {
    // Within the text the nesting is at most the limit, so the deepest path passes an alias.
    let node: Node = root;
    while (!isAlias(node)) {
      const kids = children(node, aliases);
      node = kids.reduce((a, b) =>
        (measured.get(b)?.depth ?? 0) > (measured.get(a)?.depth ?? 0) ? b : a,
      );
    }
    return {
      aliases,
      problem: aliasProblem(
        node,
        'too-deep',
        `with alias *${node.source} expanded, mappings and lists nest more than ${MAX_NESTING} levels deep; idflow reads at most ${MAX_NESTING} levels`,
      ),
    };
  }
  return { aliases };
}

const ALIAS_EXHAUSTION = 'Excessive alias count';

/**
 * Parses every document of one file; syntax problems and files over the limits (size, number
 * of documents, nesting, aliases) come back as diagnostics, each with the file and position.
 */
export function parseSource(
  path: string,
  text: string,
): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const file: SourceFile = { path, text, lines: new LineCounter() };
  const diagnostics: Diagnostic[] = [];
  const documents: SourceDocument[] = [];
  if (text.length > MAX_FILE_BYTES) {
    diagnostics.push(
      fileDiagnostic(
        path,
        'file-too-large',
        `this file is ${formatBytes(text.length)}; definition files may be at most ${formatBytes(MAX_FILE_BYTES)}, so split it`,
      ),
    );
    return { documents, diagnostics };
  }
  const tokenized = tokenize(file);
  if ('problem' in tokenized) {
    const { range, code, message } = tokenized.problem;
    diagnostics.push(diagnosticAtRange(file, range, code, message));
    return { documents, diagnostics };
  }
  const docs = Array.from(new Composer().compose(tokenized.tokens));
  docs.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      // Later errors of a document mostly follow from the first; one clear message is better.
      diagnostics.push(
        diagnosticAtRange(
          file,
          error.pos,
          'yaml-syntax',
          `YAML syntax: ${firstLine(error.message)}${hint(file, error.pos[0])}`,
        ),
      );
      return;
    }
    if (doc.contents === null) return;
    const { aliases, problem } = checkAliases(doc);
    if (problem) {
      diagnostics.push(diagnosticAtRange(file, problem.range, problem.code, problem.message));
      return;
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
    } catch (err) {
      const range = doc.contents.range ?? [0, 0];
      const message = String((err as Error).message);
      diagnostics.push(
        message.startsWith(ALIAS_EXHAUSTION)
          ? diagnosticAtRange(
              file,
              range,
              'yaml-aliases',
              `YAML aliases would expand this document too far (aliases of aliases multiply); write the values out instead`,
            )
          : diagnosticAtRange(file, range, 'yaml-syntax', `YAML: ${firstLine(message)}`),
      );
      return;
    }
    documents.push({ file, index, doc, data, aliases });
  });
  return { documents, diagnostics };
}
