/**
 * Renders notification templates: `{{ name }}` and `{{ name.field }}` from the step's data.
 * Logic-less; in HTML every value is escaped. A placeholder without a value renders empty.
 */
import type { JsonValue, TemplateIR } from '../dsl/ir';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

function lookup(data: Record<string, JsonValue>, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = data;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = current[key];
  }
  return current;
}

function text(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => text(v)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function fill(
  template: string,
  data: Record<string, JsonValue>,
  escape: (s: string) => string,
): string {
  return template.replace(PLACEHOLDER, (_, path: string) => escape(text(lookup(data, path))));
}

export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
}

export function renderTemplate(
  template: TemplateIR,
  data: Record<string, JsonValue>,
): RenderedMessage {
  const plain = (s: string) => s;
  return {
    ...(template.subject
      ? { subject: fill(template.subject, data, plain).replace(/[\r\n]+/g, ' ') }
      : {}),
    text: fill(template.text, data, plain),
    ...(template.html ? { html: fill(template.html, data, escapeHtml) } : {}),
  };
}
