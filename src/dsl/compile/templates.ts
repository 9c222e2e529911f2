/**
 * Notification templates (kind: Template): logic-less text with `{{ name }}` or
 * `{{ name.field }}` placeholders filled from a notify step's `data`. The compiler checks the
 * placeholders' syntax here and, at each notify step, that the step gives every name used.
 */
import type { Path } from '../diagnostics';
import type { TemplateDocument } from '../schema';
import type { Entry, Reporter } from './report';

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_]+)*\s*$/;
const PARTS = ['subject', 'text', 'html'] as const;

/** The data names (first path segment) a template's placeholders use. */
export function placeholdersOf(doc: TemplateDocument): Set<string> {
  const names = new Set<string>();
  for (const part of PARTS) {
    for (const match of (doc[part] ?? '').matchAll(PLACEHOLDER)) {
      const name = PATH.exec(match[1] as string)?.[1];
      if (name) names.add(name);
    }
  }
  return names;
}

/** Reports placeholders that are not `{{ name }}` or `{{ name.field }}`. */
export function checkTemplate(entry: Entry<TemplateDocument>, report: Reporter): void {
  for (const part of PARTS) {
    const text = entry.doc[part];
    if (!text) continue;
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (PATH.test(match[1] as string)) continue;
      const path: Path = [part];
      report.error(
        entry.sd,
        path,
        'bad-placeholder',
        `placeholder '${match[0]}' must be {{ name }} or {{ name.field }}: templates hold no logic`,
        {
          within: { text: match[0], offset: 0, length: match[0].length },
        },
      );
    }
  }
}
