/**
 * Visibility queries built from parts, never by splicing text: every value becomes one quoted
 * literal (backslash and quote escaped), so no value can end the literal and add a clause of
 * its own. Values with control characters or over 1,000 characters are refused with a
 * VisibilityValueError naming the field, which callers turn into a 400 or a usage error.
 */

/** Attributes idflow filters runs by (the keys are constants, never input). */
export type VisibilityKey =
  | 'IdflowFlow'
  | 'IdflowSubject'
  | 'IdflowEventType'
  | 'IdflowStatus'
  | 'IdflowDefinitionHash'
  | 'IdflowPendingApprovers'
  | 'IdflowOverBudget'
  | 'WorkflowId'
  | 'WorkflowType'
  | 'ExecutionStatus'
  | 'TaskQueue'
  | 'StartTime'
  | 'CloseTime';

export type VisibilityClause =
  | { op: '='; key: VisibilityKey; value: string; field: string }
  | { op: '>=' | '<'; key: VisibilityKey; value: string; field: string }
  | { op: 'bool'; key: VisibilityKey; value: boolean }
  | { op: 'IS NOT NULL'; key: VisibilityKey };

/** A value that cannot be placed in a visibility query; `field` names where it came from. */
export class VisibilityValueError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'VisibilityValueError';
  }
}

const MAX_VALUE_LENGTH = 1000;
/** Whether any character is a control character (C0 or DEL). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `value` as one single-quoted literal of Temporal's query language. */
export function literal(value: string, field = 'value'): string {
  if (value.length > MAX_VALUE_LENGTH)
    throw new VisibilityValueError(field, `must be at most ${MAX_VALUE_LENGTH} characters`);
  if (hasControl(value))
    throw new VisibilityValueError(field, 'must not contain control characters');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `key = 'value'`; `field` names the input the value came from (for the error). */
export function equals(key: VisibilityKey, value: string, field: string = key): VisibilityClause {
  return { op: '=', key, value, field };
}

/** `key IS NOT NULL`: runs that carry the attribute at all. */
export function isSet(key: VisibilityKey): VisibilityClause {
  return { op: 'IS NOT NULL', key };
}

/** `key >= 'value'`: a lower bound, inclusive (timestamps as RFC 3339 text). */
export function atLeast(key: VisibilityKey, value: string, field: string = key): VisibilityClause {
  return { op: '>=', key, value, field };
}

/** `key < 'value'`: an upper bound, exclusive. */
export function before(key: VisibilityKey, value: string, field: string = key): VisibilityClause {
  return { op: '<', key, value, field };
}

/**
 * A Bool attribute: `key = true`, or for false `(key IS NULL OR key = false)`, since a run
 * that never set the attribute counts as false.
 */
export function isTrue(key: VisibilityKey, value: boolean): VisibilityClause {
  return { op: 'bool', key, value };
}

function render(c: VisibilityClause): string {
  switch (c.op) {
    case '=':
    case '>=':
    case '<':
      return `${c.key} ${c.op} ${literal(c.value, c.field)}`;
    case 'bool':
      return c.value ? `${c.key} = true` : `(${c.key} IS NULL OR ${c.key} = false)`;
    case 'IS NOT NULL':
      return `${c.key} IS NOT NULL`;
    default: {
      const never: never = c;
      return never;
    }
  }
}

/** The clauses joined with AND; every value escaped as one literal. */
export function visibilityQuery(...clauses: VisibilityClause[]): string {
  return clauses.map(render).join(' AND ');
}
