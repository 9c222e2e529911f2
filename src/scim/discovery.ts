/**
 * What idflow's SCIM service says about itself (RFC 7644 §4): `ServiceProviderConfig` (PATCH and
 * ETags yes; bulk, sorting, password changes no), the one resource type `User` with the
 * enterprise extension, and the two schemas. Clients read these to decide what to send; they
 * hold no data, so they are served without a token.
 */
import { SCIM_BASE } from './errors';
import {
  CORE_USER,
  ENTERPRISE_USER,
  USER_SCHEMA,
  ENTERPRISE_SCHEMA,
  type AttributeDef,
  type SchemaDef,
} from './schema';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
/** The most users one page of `GET /Users` holds. */
export const MAX_PAGE_SIZE = 200;

type Json = Record<string, unknown>;

export function listResponse(resources: Json[], total: number, startIndex: number): Json {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

export function serviceProviderConfig(): Json {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description:
          'An idflow API token with the scim:write scope, bound to a Source with a scim section: idflow tokens create --name <name> --scopes scim:write --source <source>',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${SCIM_BASE}/ServiceProviderConfig` },
  };
}

/** The resource types, by id: only User. */
export function resourceTypes(): Json[] {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description:
        'A person as the source system provisions it; each write becomes an idflow event',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${SCIM_BASE}/ResourceTypes/User` },
    },
  ];
}

function attributeView(def: AttributeDef): Json {
  return {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required,
    caseExact: def.caseExact,
    mutability: def.mutability,
    returned: def.returned,
    uniqueness: def.uniqueness,
    ...(def.canonicalValues ? { canonicalValues: def.canonicalValues } : {}),
    ...(def.referenceTypes ? { referenceTypes: def.referenceTypes } : {}),
    ...(def.subAttributes ? { subAttributes: def.subAttributes.map(attributeView) } : {}),
  };
}

function schemaView(schema: SchemaDef): Json {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(attributeView),
    meta: { resourceType: 'Schema', location: `${SCIM_BASE}/Schemas/${schema.id}` },
  };
}

/** The schemas idflow describes: the core User and the enterprise extension. */
export function schemaDocuments(): Json[] {
  return [CORE_USER, ENTERPRISE_USER].map(schemaView);
}

/** One discovery document by id (compared without case), or undefined. */
export function byId(documents: Json[], id: string): Json | undefined {
  return documents.find((d) => String(d.id).toLowerCase() === id.toLowerCase());
}
