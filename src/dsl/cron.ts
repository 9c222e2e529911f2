/**
 * Cron strings of `every: cron` schedules, checked when a flow compiles so a bad one is an error
 * in `idflow validate`, not a schedule Temporal refuses at sync. The grammar is the five-field
 * form Temporal's schedules read — minute, hour, day of month, month, day of week; each field
 * `*`, a value, a range `a-b`, a step `x/n`, or a comma list of those; months and weekdays also
 * by their three-letter names — and the shorthands `@hourly`, `@daily`, `@weekly`, `@monthly`,
 * `@yearly`. Time zones are a schedule's own field, never part of the string. Node-free.
 */

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The first name's value (months count from 1, weekdays from 0). */
  namesFrom?: number;
}

const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    namesFrom: 1,
  },
  {
    name: 'day of week',
    min: 0,
    max: 7,
    names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
    namesFrom: 0,
  },
];

/** The shorthands Temporal reads, and what each stands for. */
export const CRON_SHORTHANDS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function valueOf(text: string, field: CronField): number | string {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max)
      return `${field.name} ${text} is out of range ${field.min}-${field.max}`;
    return n;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return index + (field.namesFrom ?? 0);
  const names = field.names ? ` or a name (${field.names.join(', ')})` : '';
  return `${field.name} '${text}' is not a number ${field.min}-${field.max}${names}`;
}

/** Why one item of a field (`*`, `5`, `1-5`, `*\/15`, `mon-fri`) is wrong, or undefined. */
function itemProblem(item: string, field: CronField): string | undefined {
  if (item === '') return `${field.name} has an empty item in its list`;
  const [range, step, extra] = item.split('/');
  if (extra !== undefined) return `${field.name} '${item}' has more than one /`;
  if (step !== undefined && !/^[1-9]\d{0,1}$/.test(step))
    return `${field.name} '${item}' has step '${step}'; a step is a whole number from 1 to 99`;
  if (range === '*') return undefined;
  const bounds = (range ?? '').split('-');
  if (bounds.length > 2) return `${field.name} '${item}' has more than one -`;
  const values = bounds.map((b) => valueOf(b, field));
  const problem = values.find((v): v is string => typeof v === 'string');
  if (problem) return problem;
  const [from, to] = values as [number, number | undefined];
  if (to !== undefined && to < from) return `${field.name} range '${range}' ends before it starts`;
  return undefined;
}

/**
 * Why `text` is not a cron string a schedule takes, or undefined when it is one. Messages name
 * the field and the rule broken.
 */
export function cronProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (/^(?:CRON_)?TZ=/i.test(trimmed))
    return "it names a time zone; write the time zone in the schedule's timezone field instead";
  if (trimmed.startsWith('@')) {
    if (trimmed in CRON_SHORTHANDS) return undefined;
    if (trimmed.startsWith('@every'))
      return '@every is an interval, not a cron string; use every: hourly, or a step like */15';
    return `'${trimmed}' is not a shorthand; known: ${Object.keys(CRON_SHORTHANDS).join(', ')}`;
  }
  if (trimmed.includes('#')) return 'it may not contain #';
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron string has 5: minute hour day-of-month month day-of-week, like '0 9 * * 1-5'`;
  }
  for (const [i, text] of fields.entries()) {
    const field = FIELDS[i] as CronField;
    for (const item of text.split(',')) {
      const problem = itemProblem(item, field);
      if (problem) return problem;
    }
  }
  return undefined;
}
