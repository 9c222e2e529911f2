/**
 * HTTP calls for the scim and http connectors: authentication from secrets, a timeout per call,
 * and the target's answer mapped to idflow's failure types (401/403 → ConnectorAuthFailed,
 * 404 → TargetNotFound, 409/412 → TargetConflict, 429 → RateLimited after Retry-After,
 * 5xx and network errors → TargetUnavailable, other 4xx → InvalidRequest). Credentials are
 * never part of a message, and neither is a target's error text: it often echoes what was sent
 * ("userName 'ada.lovelace' already exists"). A message names the status and the error codes
 * the answer gives (SCIM `scimType`, `code`, `error`), nothing else of it.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { HttpAuth, SecretEnv } from '../../src/connectors/common';
import { connectorFailure, type FailureType } from '../errors';
import { certificateProblem, isNetworkError, secretOf } from './support';

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Statuses that are answers, not failures (default: 2xx). */
  accept?: (status: number) => boolean;
  /** Where the credentials come from, named when the target refuses them. */
  credentials?: string;
}

export function authHeader(connector: string, auth: HttpAuth | undefined): Record<string, string> {
  if (!auth || auth.type === 'none') return {};
  if (auth.type === 'bearer')
    return { authorization: `Bearer ${secretOf(connector, 'auth.token', auth.token)}` };
  const password = secretOf(connector, 'auth.password', auth.password);
  return {
    authorization: `Basic ${Buffer.from(`${auth.username}:${password}`).toString('base64')}`,
  };
}

/** The environment variables an auth setting reads, for messages. */
export function credentialsOf(auth: HttpAuth | undefined): string | undefined {
  if (!auth || auth.type === 'none') return undefined;
  return auth.type === 'bearer' ? auth.token.secretEnv : auth.password.secretEnv;
}

export function headerValues(
  connector: string,
  headers: Record<string, string | SecretEnv> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    out[name] = typeof value === 'string' ? value : secretOf(connector, `headers.${name}`, value);
  return out;
}

function statusFailure(status: number): FailureType {
  if (status === 401 || status === 403) return 'ConnectorAuthFailed';
  if (status === 404 || status === 410) return 'TargetNotFound';
  if (status === 409 || status === 412) return 'TargetConflict';
  if (status === 429) return 'RateLimited';
  if (status >= 500 || status === 408) return 'TargetUnavailable';
  return 'InvalidRequest';
}

const CODE_FIELDS = ['scimType', 'code', 'error', 'errorCode', 'error_code', 'type', 'reason'];
const TOKEN = /^[A-Za-z][A-Za-z0-9_.:-]{0,59}$/;

/**
 * The machine-readable error codes of an answer (`scimType: uniqueness`, `code: E_LOCKED`),
 * at the top or under `error`/`errors[0]`: short tokens only, so a field that carries free
 * text (or a value from the request) is left out.
 */
export function errorCodes(body: unknown): string {
  const places: unknown[] = [body];
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    places.push(b.error, Array.isArray(b.errors) ? b.errors[0] : undefined);
  }
  const codes: string[] = [];
  for (const place of places) {
    if (!place || typeof place !== 'object' || Array.isArray(place)) continue;
    for (const field of CODE_FIELDS) {
      const value = (place as Record<string, unknown>)[field];
      if (typeof value === 'string' && TOKEN.test(value) && !value.includes('@'))
        codes.push(`${field} ${value}`);
      if (codes.length >= 3) break;
    }
  }
  return codes.length ? ` (${[...new Set(codes)].join(', ')})` : '';
}

/** Retry-After in seconds or as a date, as milliseconds from now. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

export async function httpCall(
  where: string,
  request: HttpRequest,
  timeoutMs: number,
): Promise<HttpResponse> {
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: request.method,
      headers: {
        accept: 'application/scim+json, application/json;q=0.9, */*;q=0.1',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      // never follow: a redirect would carry credentials and the body to another address
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const untrusted = certificateProblem(err);
    if (untrusted) {
      throw connectorFailure(
        'ConnectorAuthFailed',
        `${where}: the TLS certificate of ${new URL(request.url).origin} is not trusted: ${untrusted}; give its CA to the worker with NODE_EXTRA_CA_CERTS`,
      );
    }
    if (err instanceof Error && err.name === 'TimeoutError') {
      throw connectorFailure(
        'TargetUnavailable',
        `${where}: no answer from ${new URL(request.url).origin} within ${timeoutMs} ms`,
      );
    }
    if (isNetworkError(err)) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? 'network error';
      throw connectorFailure(
        'TargetUnavailable',
        `${where}: cannot reach ${new URL(request.url).origin} (${code})`,
      );
    }
    // the request could not be built or sent (a header value it refuses, say): the library's
    // text may quote a header, so it is not repeated here
    throw connectorFailure(
      'InvalidRequest',
      `${where}: the request to ${new URL(request.url).origin} could not be sent; check the connector's headers and secrets`,
    );
  }
  const text = await res.text();
  const accepted = request.accept ? request.accept(res.status) : res.ok;
  let body: unknown = text;
  if (text && /json/i.test(res.headers.get('content-type') ?? '')) {
    try {
      body = JSON.parse(text);
    } catch {
      // an error page labelled JSON is still the status's failure, not a malformed answer
      if (accepted) {
        throw connectorFailure(
          'InvalidResponse',
          `${where}: ${request.method} answered ${res.status} with a body that is not JSON`,
        );
      }
    }
  }
  if (!accepted) {
    const type = res.status < 400 ? 'InvalidResponse' : statusFailure(res.status);
    // the path may hold a person's id or address (`/users/ada@…`): the op and method say where
    const message = `${where}: ${request.method} answered ${res.status}${errorCodes(body)}`;
    if (type === 'RateLimited') {
      const delay = retryAfterMs(res.headers.get('retry-after'));
      throw ApplicationFailure.create({
        type,
        message,
        nonRetryable: false,
        ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
      });
    }
    throw connectorFailure(
      type,
      type === 'ConnectorAuthFailed' && request.credentials
        ? `${message}; check ${request.credentials}`
        : message,
    );
  }
  return { status: res.status, headers: res.headers, body };
}
