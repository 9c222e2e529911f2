/**
 * Requests to idflow's own SCIM service (`/scim/v2`) as a provisioning client sends them: raw
 * bodies and headers, the answer's status, headers and JSON. Also the event types a person got,
 * in the order idflow accepted them.
 */
import { eventsOfSubject } from '../../src/db/repos/events';
import type { Harness } from './harness';

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface ScimAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export interface ScimRequest {
  token?: string | null;
  body?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A request to `<gateway>/scim/v2<path>`; bodies go as application/scim+json unless told. */
export async function scim(
  h: Harness,
  method: string,
  path: string,
  options: ScimRequest = {},
): Promise<ScimAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body =
    options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/scim+json';
  const res = await fetch(`${h.gatewayUrl}/scim/v2${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { unparsed: text };
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** `/Users?filter=…` with the filter encoded as a client sends it. */
export function filtered(filter: string, extra = ''): string {
  return `/Users?filter=${encodeURIComponent(filter)}${extra}`;
}

/** A PatchOp message of `operations`. */
export function patchOp(...operations: unknown[]): Record<string, unknown> {
  return { schemas: [PATCH_OP], Operations: operations };
}

/**
 * The types of `personId`'s events, oldest version first (their ids end in -v<version>), once
 * `count` of them have been recorded by their dispatches.
 */
export async function eventTypes(
  h: Harness,
  personId: string,
  count: number,
): Promise<Array<{ id: string; type: string; source: string }>> {
  return h.eventually(async () => {
    const rows = await eventsOfSubject(h.db.db, personId, 100);
    if (rows.length < count) return undefined;
    const version = (id: string) => Number(/-v(\d+)$/.exec(id)?.[1] ?? 0);
    return rows
      .map((r) => ({ id: r.id, type: r.type, source: r.source }))
      .sort((a, b) => version(a.id) - version(b.id));
  }, 60_000);
}
