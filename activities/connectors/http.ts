/**
 * The `http` connector's one op: a REST call relative to the connector's base URL, with its
 * authentication and headers (secrets from the environment), the expected statuses, and values
 * picked out of the JSON answer by JSON pointer.
 */
import type * as z from 'zod';
import type { http } from '../../src/connectors/http';
import { connectorFailure } from '../errors';
import { authHeader, credentialsOf, headerValues, httpCall } from './http-client';
import { withinLimits } from './support';
import type { OpContext } from './types';

type HttpConfig = z.infer<typeof http.config>;
type Args = z.infer<(typeof http.ops)['request']['args']>;
type Result = z.infer<(typeof http.ops)['request']['result']>;

/** RFC 6901: the value at `pointer` in `doc`, or undefined. */
export function atPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let current = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function createHttpConnector(timeoutMs = 30_000) {
  return {
    ops: {
      request: (a: Args, ctx: OpContext): Promise<Result> => {
        const cfg = ctx.config as unknown as HttpConfig;
        const where = `${ctx.connector}.request`;
        return withinLimits(
          ctx.connector,
          cfg,
          async () => {
            const base = cfg.baseUrl.endsWith('/') ? cfg.baseUrl : `${cfg.baseUrl}/`;
            const url = new URL(a.path.replace(/^\/+/, ''), base);
            if (url.origin !== new URL(base).origin)
              throw connectorFailure(
                'InvalidRequest',
                `${where}: the path leaves ${base}; give a path below it`,
              );
            for (const [k, v] of Object.entries(a.query ?? {})) url.searchParams.set(k, String(v));
            const expected = a.expectStatus;
            const res = await httpCall(
              where,
              {
                method: a.method,
                url: url.toString(),
                headers: {
                  ...headerValues(ctx.connector, cfg.headers),
                  ...a.headers,
                  ...authHeader(ctx.connector, cfg.auth),
                  'idempotency-key': ctx.idempotencyKey,
                },
                ...(a.body !== undefined ? { body: a.body } : {}),
                ...(expected ? { accept: (s: number) => expected.includes(s) } : {}),
                ...(credentialsOf(cfg.auth) ? { credentials: credentialsOf(cfg.auth) } : {}),
              },
              ctx.timeoutMs ?? timeoutMs,
            );
            const values: Record<string, unknown> = {};
            for (const [name, pointer] of Object.entries(a.pick ?? {})) {
              const value = atPointer(res.body, pointer);
              if (value === undefined) {
                throw connectorFailure(
                  'InvalidResponse',
                  `${where}: the answer has nothing at ${pointer} (for pick.${name})`,
                );
              }
              values[name] = value;
            }
            return { status: res.status, body: res.body ?? null, values };
          },
          ctx.signal,
        );
      },
    },
  };
}
