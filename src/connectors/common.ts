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

/**
 * The person an account is for, as the target records it: the value the connector's
 * `correlation.attribute` holds (idflow's person id, an employee number). Create-if-absent ops
 * converge an existing account only when it holds this value.
 */
export const Owner = z
  .string()
  .min(1)
  .max(256)
  .describe('the correlation value of the person the account is for (config.correlation)');

/** How a target records who an account belongs to; `attribute` is type-specific. */
export function correlationConfig<A extends z.ZodType<string>>(attribute: A) {
  return z
    .strictObject({
      attribute,
      adoptUnowned: z
        .boolean()
        .optional()
        .describe(
          'true: an existing account with no owner value is taken over (and given one); default false: refused',
        ),
    })
    .describe(
      'the attribute that names the person an account belongs to; create-if-absent ops converge only accounts of the same person',
    );
}

/**
 * An op's `args` and `argsFor` when it takes the account's owner: `owner` is required where the
 * connector declares `correlation`, and unknown where it does not (an owner that nothing would
 * record is a mistake to point out, not to ignore).
 */
export function withOwner<S extends z.ZodRawShape>(shape: S) {
  const without = z.strictObject(shape);
  const required = z.strictObject({ ...shape, owner: Owner });
  return {
    args: z.strictObject({ ...shape, owner: Owner.optional() }),
    argsFor: (config: Record<string, unknown>): z.ZodObject =>
      config.correlation === undefined ? without : required,
  };
}
