/**
 * Compiles a Source: a system that sends idflow events. Checks what YAML alone cannot: the
 * person fields a SCIM mapping names, the SCIM paths' grammar, the tolerance of webhook
 * signatures, and secrets listed twice. The SCIM mapping is merged over the defaults here, so
 * the gateway reads one complete mapping from the IR.
 */
import { didYouMean, type Path } from '../diagnostics';
import { parseDuration } from '../duration';
import { contentHash } from '../hash';
import { IR_VERSION, type Compiled, type ScimMappingIR, type SourceIR } from '../ir';
import type { SourceDefinitionDocument } from '../schema';
import { parseScimPath } from '../scim-path';
import type { Entry, Reporter } from './report';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Person fields a SCIM mapping may set, in the order the IR lists them (`id` first). */
export const SCIM_PERSON_FIELDS = [
  'id',
  'employeeId',
  'givenName',
  'familyName',
  'displayName',
  'email',
  'department',
  'title',
  'jobCode',
  'managerId',
  'location',
  'employmentType',
] as const;

/**
 * Where each person field comes from when a Source does not say: the core User schema and the
 * enterprise extension, as Entra ID and Okta send them. The person id is the SCIM client's
 * `externalId` (its own stable id for the user).
 */
export const DEFAULT_SCIM_PERSON: Readonly<Record<string, string>> = {
  id: 'externalId',
  employeeId: `${ENTERPRISE}:employeeNumber`,
  givenName: 'name.givenName',
  familyName: 'name.familyName',
  displayName: 'displayName',
  email: 'emails[primary eq true].value',
  department: `${ENTERPRISE}:department`,
  title: 'title',
  managerId: `${ENTERPRISE}:manager.value`,
  location: 'addresses[primary eq true].locality',
  employmentType: 'userType',
};

export const DEFAULT_SCIM_ATTRIBUTES: Readonly<Record<string, string>> = {
  costCenter: `${ENTERPRISE}:costCenter`,
};

export const DEFAULT_SCIM_EVENTS: ScimMappingIR['events'] = {
  create: 'person.joiner',
  mover: 'person.mover',
  deactivate: 'person.leaver',
  delete: 'person.leaver',
  reactivate: 'person.reactivation',
};

export const DEFAULT_MOVER_ON = ['department', 'title', 'managerId', 'location'];

/** Signatures older than this are refused unless a Source says otherwise (Standard Webhooks). */
export const DEFAULT_WEBHOOK_TOLERANCE_MS = 5 * 60_000;
const MAX_WEBHOOK_TOLERANCE_MS = 60 * 60_000;
const MIN_WEBHOOK_TOLERANCE_MS = 10_000;

/** Whether `path` is a SCIM attribute path a mapping can read (see scim-path.ts). */
export function isScimPath(path: string): boolean {
  return parseScimPath(path) !== undefined;
}

function isPersonField(field: string): field is (typeof SCIM_PERSON_FIELDS)[number] {
  return (SCIM_PERSON_FIELDS as readonly string[]).includes(field);
}

function compileScim(
  scim: NonNullable<SourceDefinitionDocument['scim']>,
  entry: Entry<SourceDefinitionDocument>,
  report: Reporter,
): ScimMappingIR {
  const { sd } = entry;
  const checkPath = (where: Path, path: string) => {
    if (!isScimPath(path)) {
      report.error(
        sd,
        where,
        'invalid-scim-path',
        'is not a SCIM attribute path idflow reads; write it like name.givenName, emails[type eq "work"].value or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department (a filter compares one sub-attribute with eq, ne, co, sw, ew or pr)',
      );
    }
  };
  const written = scim.person ?? {};
  for (const [field, path] of Object.entries(written)) {
    const where: Path = ['scim', 'person', field];
    if (!isPersonField(field)) {
      report.error(
        sd,
        where,
        'unknown-person-field',
        `a person has no field '${field}' a SCIM user can set${didYouMean(field, SCIM_PERSON_FIELDS)}; fields: ${SCIM_PERSON_FIELDS.join(', ')}`,
        { key: true },
      );
      continue;
    }
    checkPath(where, path);
  }
  const merged = { ...DEFAULT_SCIM_PERSON, ...written };
  const person = SCIM_PERSON_FIELDS.filter((f) => merged[f] !== undefined).map((field) => ({
    field,
    path: merged[field] as string,
  }));
  const attributes = Object.entries({ ...DEFAULT_SCIM_ATTRIBUTES, ...(scim.attributes ?? {}) });
  for (const [name, path] of Object.entries(scim.attributes ?? {})) {
    checkPath(['scim', 'attributes', name], path);
  }
  const moverOn = scim.moverOn ?? DEFAULT_MOVER_ON;
  scim.moverOn?.forEach((field, i) => {
    if (!isPersonField(field) || field === 'id') {
      report.error(
        sd,
        ['scim', 'moverOn', i],
        'unknown-person-field',
        `'${field}' is not a person field a move can change${didYouMean(field, SCIM_PERSON_FIELDS)}`,
      );
    } else if (merged[field] === undefined) {
      report.error(
        sd,
        ['scim', 'moverOn', i],
        'unmapped-person-field',
        `'${field}' is read from no SCIM attribute: map it under scim.person first`,
      );
    }
  });
  const { update, ...events } = scim.events ?? {};
  return {
    person,
    attributes: attributes.map(([name, path]) => ({ name, path })),
    events: {
      ...DEFAULT_SCIM_EVENTS,
      ...events,
      ...(update === false ? {} : { update: update ?? 'person.updated' }),
    },
    moverOn: [...new Set(moverOn)],
  };
}

function compileWebhook(
  webhook: NonNullable<NonNullable<SourceDefinitionDocument['auth']>['webhook']>,
  entry: Entry<SourceDefinitionDocument>,
  report: Reporter,
): SourceIR['webhook'] {
  const at: Path = ['auth', 'webhook'];
  const seen = new Set<string>();
  webhook.secrets.forEach((secret, i) => {
    if (seen.has(secret.secretEnv)) {
      report.error(
        entry.sd,
        [...at, 'secrets', i, 'secretEnv'],
        'duplicate-secret',
        `${secret.secretEnv} is listed already`,
      );
    }
    seen.add(secret.secretEnv);
  });
  let toleranceMs = DEFAULT_WEBHOOK_TOLERANCE_MS;
  if (webhook.tolerance !== undefined) {
    toleranceMs = parseDuration(webhook.tolerance) ?? DEFAULT_WEBHOOK_TOLERANCE_MS;
    if (toleranceMs < MIN_WEBHOOK_TOLERANCE_MS || toleranceMs > MAX_WEBHOOK_TOLERANCE_MS) {
      report.error(
        entry.sd,
        [...at, 'tolerance'],
        'tolerance-out-of-range',
        'must be between 10s and 1h: the window in which a signed delivery is accepted',
      );
    }
  }
  return { secretEnvs: webhook.secrets.map((s) => s.secretEnv), toleranceMs };
}

export function compileSource(
  entry: Entry<SourceDefinitionDocument>,
  report: Reporter,
): Compiled<SourceIR> | undefined {
  const { doc } = entry;
  const { value: ir, clean } = report.clean((): SourceIR => {
    const bearer = doc.auth?.bearer ?? true;
    const webhook = doc.auth?.webhook ? compileWebhook(doc.auth.webhook, entry, report) : undefined;
    if (!bearer && !webhook) {
      report.error(
        entry.sd,
        ['auth', 'bearer'],
        'no-authentication',
        'with bearer: false the source needs auth.webhook secrets, or nothing could send its events',
      );
    }
    return {
      irVersion: IR_VERSION,
      name: doc.metadata.name,
      title: doc.metadata.title ?? doc.metadata.name,
      ...(doc.description ? { description: doc.description } : {}),
      bearer,
      ...(webhook ? { webhook } : {}),
      ...(doc.rateLimit ? { rateLimitPerMinute: doc.rateLimit.perMinute } : {}),
      ...(doc.scim ? { scim: compileScim(doc.scim, entry, report) } : {}),
    };
  });
  if (!clean) return undefined;
  return { ir, hash: contentHash(ir) };
}
