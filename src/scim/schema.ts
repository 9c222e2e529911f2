/**
 * The SCIM User schemas idflow accepts (RFC 7643 §4.1 and §4.3): the attribute definitions the
 * request checks read, and what `GET /scim/v2/Schemas` shows. Attribute names compare without
 * case, as RFC 7643 §2.1 says; idflow stores and answers them in the spelling written here.
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type AttributeType = 'string' | 'boolean' | 'dateTime' | 'reference' | 'binary' | 'complex';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: AttributeDef[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

type Options = Partial<Omit<AttributeDef, 'name' | 'type' | 'description'>>;

function attr(
  name: string,
  type: AttributeType,
  description: string,
  o: Options = {},
): AttributeDef {
  return {
    name,
    type,
    description,
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...o,
  };
}

const text = (name: string, description: string, o: Options = {}) =>
  attr(name, 'string', description, o);

/** The sub-attributes of a multi-valued attribute such as emails or phoneNumbers. */
function multi(name: string, description: string, types: string[], o: Options = {}) {
  return attr(name, 'complex', description, {
    ...o,
    multiValued: true,
    subAttributes: [
      text('value', `The ${name} value`),
      text('display', 'A human-readable name, primarily used for display purposes'),
      text(
        'type',
        'A label indicating the function of the value',
        types.length ? { canonicalValues: types } : {},
      ),
      attr('primary', 'boolean', 'Whether this is the primary value'),
    ],
  });
}

const readOnly: Options = { mutability: 'readOnly' };

export const CORE_USER: SchemaDef = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    text('id', 'Unique identifier of the user, issued by idflow', {
      ...readOnly,
      caseExact: true,
      returned: 'always',
      uniqueness: 'server',
    }),
    text('externalId', "The client's own identifier of the user", { caseExact: true }),
    text('userName', 'Unique identifier of the user within its source', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', 'The components of the user’s name', {
      subAttributes: [
        text('formatted', 'The full name'),
        text('familyName', 'The family name'),
        text('givenName', 'The given name'),
        text('middleName', 'The middle name(s)'),
        text('honorificPrefix', 'The honorific prefix(es)'),
        text('honorificSuffix', 'The honorific suffix(es)'),
      ],
    }),
    text('displayName', 'The name of the user, suitable for display'),
    text('nickName', 'The casual way to address the user'),
    attr('profileUrl', 'reference', 'A URI of the user’s online profile', {
      referenceTypes: ['external'],
    }),
    text('title', 'The user’s title, such as "Vice President"'),
    text('userType', 'The relationship with the organisation, such as Employee or Contractor'),
    text('preferredLanguage', 'The user’s preferred written or spoken language'),
    text('locale', 'The user’s default location for localisation'),
    text('timezone', 'The user’s time zone, in the IANA format'),
    attr('active', 'boolean', 'Whether the user is active'),
    text('password', 'Never stored nor returned by idflow', {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multi('emails', 'Email addresses of the user', ['work', 'home', 'other']),
    multi('phoneNumbers', 'Phone numbers of the user', ['work', 'home', 'mobile', 'fax', 'other']),
    multi('ims', 'Instant messaging addresses of the user', ['aim', 'gtalk', 'icq', 'xmpp']),
    multi('photos', 'URLs of photos of the user', ['photo', 'thumbnail']),
    attr('addresses', 'complex', 'Physical mailing addresses of the user', {
      multiValued: true,
      subAttributes: [
        text('formatted', 'The full mailing address'),
        text('streetAddress', 'The street address'),
        text('locality', 'The city or locality'),
        text('region', 'The state or region'),
        text('postalCode', 'The postal code'),
        text('country', 'The country'),
        text('type', 'A label indicating the address’ function', {
          canonicalValues: ['work', 'home', 'other'],
        }),
        attr('primary', 'boolean', 'Whether this is the primary address'),
      ],
    }),
    // read-only (RFC 7643 §4.1.2): a client changes memberships on /Groups, which idflow has not
    multi('groups', 'Groups the user belongs to (idflow keeps none)', ['direct', 'indirect'], {
      mutability: 'readOnly',
    }),
    multi('entitlements', 'Entitlements of the user', []),
    multi('roles', 'Roles of the user', []),
    multi('x509Certificates', 'Certificates of the user', []),
  ],
};

export const ENTERPRISE_USER: SchemaDef = {
  id: ENTERPRISE_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    text('employeeNumber', 'The user’s number in the organisation'),
    text('costCenter', 'The user’s cost center'),
    text('organization', 'The user’s organisation'),
    text('division', 'The user’s division'),
    text('department', 'The user’s department'),
    attr('manager', 'complex', 'The user’s manager', {
      subAttributes: [
        text('value', 'The SCIM id of the manager (or the client’s id of the manager)', {
          caseExact: true,
        }),
        attr('$ref', 'reference', 'The URI of the manager’s user', { referenceTypes: ['User'] }),
        text('displayName', 'The manager’s display name', readOnly),
      ],
    }),
  ],
};

/** The attribute named `name` (without case) among `defs`. */
export function findAttribute(
  defs: readonly AttributeDef[] | undefined,
  name: string,
): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return defs?.find((d) => d.name.toLowerCase() === lower);
}

/**
 * The schemas a request of one source may use: the core User, the enterprise extension, and
 * extensions its Source's mapping reads from (`urn:…:attribute` paths), whose attributes idflow
 * keeps as sent, without definitions. Keyed by the URN in lower case.
 */
export interface UserSchemas {
  extensions: Map<string, { urn: string; def?: SchemaDef }>;
}

/** The URNs of extension schemas a mapping's paths name, besides the core and enterprise ones. */
export function extensionUrnsOf(paths: readonly string[]): string[] {
  const urns = new Set<string>();
  for (const path of paths) {
    const m = /^(urn:[A-Za-z0-9._:-]+):[A-Za-z][A-Za-z0-9_$-]*(?:[[.].*)?$/.exec(path);
    const urn = m?.[1];
    if (!urn) continue;
    const lower = urn.toLowerCase();
    if (lower !== USER_SCHEMA.toLowerCase() && lower !== ENTERPRISE_SCHEMA.toLowerCase())
      urns.add(urn);
  }
  return [...urns];
}

/** The schemas of a source whose mapping names `extraUrns` (extensions kept as sent). */
export function userSchemas(extraUrns: readonly string[] = []): UserSchemas {
  const extensions = new Map<string, { urn: string; def?: SchemaDef }>();
  for (const urn of extraUrns) extensions.set(urn.toLowerCase(), { urn });
  extensions.set(ENTERPRISE_SCHEMA.toLowerCase(), { urn: ENTERPRISE_SCHEMA, def: ENTERPRISE_USER });
  return { extensions };
}
