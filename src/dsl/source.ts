/**
 * YAML sources: parsing files into documents (several per file), and mapping a path inside a
 * document back to the line and column it came from, so every diagnostic points at the text.
 */
import {
  LineCounter,
  visit,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import { toPointer, type Diagnostic, type Path } from './diagnostics';

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
  return {
    file: file.path,
    line: start.line,
    column: start.col,
    endLine: end.line,
    endColumn: end.col,
    ...(pointer === undefined ? {} : { pointer }),
    code,
    message,
  };
}

function resolve(node: unknown, doc: Document.Parsed): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

interface Found {
  node?: Node;
  key?: Node;
}

/** The deepest node along `path` (and the key node of its last step, for maps). */
function find(doc: Document.Parsed, path: Path): Found {
  let current: unknown = doc.contents;
  let found: Found = isScalar(current) || isMap(current) || isSeq(current) ? { node: current } : {};
  for (const seg of path) {
    current = resolve(current, doc);
    if (isMap(current)) {
      const pair = current.items.find((p) => {
        const key = isScalar(p.key) ? p.key.value : p.key;
        return String(key) === String(seg);
      });
      if (!pair) return found;
      const value = resolve(pair.value, doc);
      const keyNode = pair.key as Node;
      found = { key: keyNode, node: (value as Node | null) ?? keyNode };
      current = value;
    } else if (isSeq(current) && typeof seg === 'number') {
      const item = resolve(current.items[seg], doc) as Node | undefined;
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
  const { node, key } = find(sd.doc, path);
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

/** The first alias that sits inside the node it refers to: data that would contain itself. */
function cyclicAlias(doc: Document.Parsed): Alias | undefined {
  let cyclic: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      const target = alias.resolve(doc);
      if (
        target?.range &&
        alias.range &&
        alias.range[0] >= target.range[0] &&
        alias.range[0] < target.range[2]
      ) {
        cyclic = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return cyclic;
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

/** Parses every document of one file; syntax problems come back as diagnostics. */
export function parseSource(
  path: string,
  text: string,
): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const file: SourceFile = { path, text, lines: new LineCounter() };
  const diagnostics: Diagnostic[] = [];
  const documents: SourceDocument[] = [];
  const parsed = parseAllDocuments(text, { lineCounter: file.lines, prettyErrors: false });
  const docs = Array.isArray(parsed) ? parsed : [parsed];
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
    const alias = cyclicAlias(doc);
    if (alias?.range) {
      diagnostics.push(
        diagnosticAtRange(
          file,
          alias.range,
          'yaml-cycle',
          `YAML alias *${alias.source} refers to a node that contains it, so the document would contain itself; repeat the values instead`,
        ),
      );
      return;
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 50 });
    } catch (err) {
      const range = doc.contents.range ?? [0, 0];
      diagnostics.push(
        diagnosticAtRange(
          file,
          range,
          'yaml-syntax',
          `YAML: ${firstLine(String((err as Error).message))}`,
        ),
      );
      return;
    }
    documents.push({ file, index, doc, data });
  });
  return { documents, diagnostics };
}
