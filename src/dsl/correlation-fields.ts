/**
 * The person fields a correlation rule may match on: the identity store's text columns, and
 * `attributes.<name>` for one attribute. Shared by the compiler and the lookup on the database;
 * no Node imports (the interpreter reads the IR these name).
 */
export const CORRELATION_FIELDS = [
  'id',
  'employeeId',
  'email',
  'givenName',
  'familyName',
  'displayName',
  'managerId',
  'department',
  'title',
  'jobCode',
  'location',
  'employmentType',
] as const;
export type CorrelationColumn = (typeof CORRELATION_FIELDS)[number];

/** `attributes.<name>`: a name of letters, digits, `_` and `-`. */
export const ATTRIBUTE_FIELD_PATTERN = /^attributes\.([A-Za-z_][A-Za-z0-9_-]{0,62})$/;

export function isCorrelationField(field: string): boolean {
  return (
    (CORRELATION_FIELDS as readonly string[]).includes(field) || ATTRIBUTE_FIELD_PATTERN.test(field)
  );
}
