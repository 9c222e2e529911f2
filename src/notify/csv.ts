/**
 * CSV for report attachments (RFC 4180): one row per map, columns in the order keys first
 * appear, CRLF line ends, fields quoted when they hold a comma, quote or line break. Text cells
 * that a spreadsheet would run as a formula (=, +, -, @ first) are prefixed with a quote;
 * numbers are written as they are.
 */
import type { JsonValue } from '../dsl/ir';

function cell(value: JsonValue | undefined): string {
  let text =
    value === undefined || value === null
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  // a number is data, never a formula: -7 stays -7
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** `rows` must be a list of maps; anything else is described in the thrown error. */
export function toCsv(rows: JsonValue): string {
  if (!Array.isArray(rows)) throw new Error(`rows must be a list of maps, not ${typeof rows}`);
  const columns: string[] = [];
  for (const [i, row] of rows.entries()) {
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new Error(`row ${i} must be a map of column to value`);
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  }
  const lines = [columns.map((c) => cell(c)).join(',')];
  for (const row of rows as Array<Record<string, JsonValue>>)
    lines.push(columns.map((c) => cell(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** One CSV record (with its CRLF), cells written as {@link toCsv} writes them; for streams. */
export function csvRecord(values: Array<JsonValue | undefined>): string {
  return `${values.map((v) => cell(v)).join(',')}\r\n`;
}
