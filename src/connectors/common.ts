/**
 * Configuration pieces shared by the remote connector types: secrets by reference, limits,
 * authentication. Node-free (the compiler and the JSON Schema export read them).
 */
import * as z from 'zod';

/** A secret, given only by the name of the environment variable that holds it (on the worker). */
export const SecretEnv = z.strictObject({
  secretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name, like LDAP_BIND_PASSWORD'),
});
export type SecretEnv = z.infer<typeof SecretEnv>;

/** How hard one worker may drive a target: calls in flight at once and calls a second. */
export const Limits = {
  maxConcurrency: z.int().min(1).max(1000).optional(),
  ratePerSecond: z.number().positive().max(100_000).optional(),
};

/** TLS towards the target: a CA bundle file on the worker, and whether to verify at all. */
export const Tls = z.strictObject({
  caFile: z.string().min(1).optional(),
  rejectUnauthorized: z.boolean().optional(),
});

/** Authentication for HTTP-based targets. */
export const HttpAuth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: SecretEnv }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: SecretEnv }),
  z.strictObject({ type: z.literal('none') }),
]);
export type HttpAuth = z.infer<typeof HttpAuth>;

/** Attribute values as directories and applications take them. */
export const AttributeValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string(), z.number()])),
]);

/** Timeout and retry policy of remote connector types unless a Connector document says otherwise. */
export const REMOTE_DEFAULTS = {
  timeoutMs: 30_000,
  retry: {
    maximumAttempts: 10,
    initialIntervalMs: 1_000,
    backoffCoefficient: 2,
    maximumIntervalMs: 60_000,
  },
} as const;
