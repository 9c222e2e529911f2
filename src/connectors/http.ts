/**
 * `http`: one REST call for targets with neither LDAP nor SCIM. Declarations only; the activity
 * lives in activities/connectors/http.ts.
 */
import * as z from 'zod';
import { HttpAuth, Limits, REMOTE_DEFAULTS, SecretEnv } from './common';
import { defineConnectorType } from './spec';

export const http = defineConnectorType({
  type: 'http',
  description: 'A REST call to a target without LDAP or SCIM.',
  config: z.strictObject({
    baseUrl: z.url({ error: 'must be a URL, like https://api.example.com/' }),
    auth: HttpAuth.optional(),
    headers: z.record(z.string().min(1), z.union([z.string(), SecretEnv])).optional(),
    ...Limits,
  }),
  notifies: false,
  local: false,
  defaults: REMOTE_DEFAULTS,
  ops: {
    request: {
      description:
        'Sends method + path (relative to baseUrl) with an optional JSON body; a status outside expectStatus fails; pick maps JSON pointers of the response to named values.',
      args: z.strictObject({
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
        path: z.string().min(1),
        query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
        headers: z.record(z.string().min(1), z.string()).optional(),
        body: z.unknown().optional(),
        expectStatus: z.array(z.int().min(100).max(599)).min(1).optional(),
        pick: z
          .record(z.string().min(1), z.string().regex(/^(\/.*)?$/, 'must be a JSON pointer'))
          .optional(),
      }),
      result: z.object({
        status: z.int(),
        body: z.unknown(),
        values: z.record(z.string(), z.unknown()),
      }),
    },
  },
});
