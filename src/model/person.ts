/**
 * A person as idflow knows them: the fields HR systems send and the identity store keeps.
 * Shared by the event schema, the identity-store connector and the subject snapshot of a run.
 */
import * as z from 'zod';

export const PERSON_STATUSES = [
  'pending',
  'active',
  'suspended',
  'disabled',
  'terminated',
] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

/** Person ids and employee ids end up in workflow ids: printable, no spaces, bounded. */
export const PersonId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\s/]+$/, 'must not contain spaces or /');

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
