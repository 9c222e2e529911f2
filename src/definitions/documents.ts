/**
 * The YAML text of each definition document, so a stored version keeps what its author wrote
 * (comments included) next to the IR it compiled to: `definitions diff` shows both.
 */
import type { Source } from '../dsl/compiler';
import { parseSource } from '../dsl/source';

export interface DocumentText {
  /** The file the document is in, as the sources name it. */
  path: string;
  /** The document: from the end of the previous one (or the file's start) to its own end. */
  text: string;
}

/** Strips a leading `---` marker line and a trailing `...` end marker line. */
function tidy(text: string): string {
  return text
    .replace(/^---[^\S\n]*(\r?\n|$)/, '')
    .replace(/(^|\n)\.\.\.[^\S\n]*(\r?\n)?$/, '$1')
    .replace(/\s+$/, '\n');
}

/**
 * Each document's text by `<kind>/<name>` (as its YAML names them). A name defined twice is a
 * compile error, so the first is kept and never stored.
 */
export function documentTexts(sources: readonly Source[]): Map<string, DocumentText> {
  const texts = new Map<string, DocumentText>();
  for (const source of sources) {
    const { documents } = parseSource(source.path, source.text);
    documents.forEach((sd, i) => {
      const data = sd.data as { kind?: unknown; metadata?: { name?: unknown } } | null;
      if (typeof data?.kind !== 'string' || typeof data.metadata?.name !== 'string') return;
      const key = `${data.kind}/${data.metadata.name}`;
      if (texts.has(key)) return;
      const start = i === 0 ? 0 : sd.doc.range[0];
      const end = documents[i + 1] ? sd.doc.range[2] : source.text.length;
      texts.set(key, { path: source.path, text: tidy(source.text.slice(start, end)) });
    });
  }
  return texts;
}
