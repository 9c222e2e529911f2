/**
 * A person as idflow knows them: the fields HR systems send and the identity store keeps.
 * Shared by the event schema, the identity-store connector and the subject snapshot of a run.
 */
import * as z from 'zod';

/**
 * A person's status. Only `active` holds access. `termination-pending` is a leaver past their
 * last day and inside the grace period (accounts disabled, restorable); `terminated` is past it
 * (accounts deleted where a connector says so).
 */
export const PERSON_STATUSES = [
  'pending',
  'active',
  'suspended',
  'termination-pending',
  'disabled',
  'terminated',
] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

/**
 * The grammar of person ids, defined once: a letter or digit, then up to 127 letters, digits or
 * `.`, `_`, `:`, `@`, `-` (like `p-1001`, `E1001`, `ada@corp`). Person ids end up in workflow ids,
 * search attributes, visibility queries and audit targets, so nothing else may pass: no spaces,
 * quotes, slashes or control characters.
 */
export const PERSON_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** What a bad person id is told, naming the grammar. */
export const PERSON_ID_MESSAGE =
  'must be a person id: a letter or digit, then up to 127 letters, digits or . _ : @ - (like p-1001)';

/** Whether `value` is a person id (see PERSON_ID_PATTERN). */
export function isPersonId(value: unknown): value is string {
  return typeof value === 'string' && PERSON_ID_PATTERN.test(value);
}

export const PersonId = z.string().regex(PERSON_ID_PATTERN, PERSON_ID_MESSAGE);

export const Timestamp = z.iso.datetime({ offset: true });
const Text = z.string().min(1).max(512);
export const Attributes = z.record(z.string(), z.unknown());

/** Every field of a person but the id, all optional. */
export const personFields = {
  employeeId: Text.optional(),
  givenName: Text.optional(),
  familyName: Text.optional(),
  displayName: Text.optional(),
  email: z.email().optional(),
  department: Text.optional(),
  title: Text.optional(),
  jobCode: Text.optional(),
  managerId: PersonId.optional(),
  location: Text.optional(),
  employmentType: Text.optional(),
  status: z.enum(PERSON_STATUSES).optional(),
  validFrom: Timestamp.optional(),
  validUntil: Timestamp.optional(),
  attributes: Attributes.optional(),
};

/** A person as stored. */
export const Person = z.object({
  id: PersonId,
  ...personFields,
  status: z.enum(PERSON_STATUSES),
  attributes: Attributes,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Person = z.infer<typeof Person>;

/** The manager summary attached to a subject snapshot. */
export interface ManagerSummary {
  id: string;
  employeeId?: string;
  displayName?: string;
  email?: string;
  managerId?: string;
}

/**
 * `subject` of a run: the stored person (if any) overlaid with what the event says, plus the
 * manager as the identity store knows them. Taken once, when the event is dispatched.
 */
export type SubjectSnapshot = Partial<Omit<Person, 'id'>> & {
  id: string;
  manager?: ManagerSummary;
};
