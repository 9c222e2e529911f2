/**
 * Connectivity and credential checks for `idflow connectors test`: each type does the least
 * that proves the worker can do its job (bind and read the configured DNs; read the SCIM
 * service's users; reach the HTTP base URL; log in to SMTP; Slack's auth.test).
 */
import { ApplicationFailure } from '@temporalio/common';
import type * as z from 'zod';
import type { ActiveConnectors } from '../../src/connectors/active';
import type { http } from '../../src/connectors/http';
import type { ConnectorIR } from '../../src/dsl/ir';
import { Channels } from '../notify/channels';
import { authHeader, headerValues, httpCall } from './http-client';
import { createLdapConnector } from './ldap';
import { createScimConnector } from './scim';
import type { OpContext } from './types';

export interface CheckResult {
  ok: boolean;
  lines: string[];
  /** The failure type when not ok: ConnectorAuthFailed, TargetUnavailable, … */
  failure?: string;
}

export async function checkConnector(
  connector: ConnectorIR,
  timeoutMs = 10_000,
): Promise<CheckResult> {
  const ctx: OpContext = {
    connector: connector.name,
    config: connector.config,
    idempotencyKey: `check:${connector.name}`,
    runId: 'idflow connectors test',
    flow: 'idflow connectors test',
    stepId: 'check',
  };
  try {
    switch (connector.type) {
      case 'idstore':
        return { ok: true, lines: ["idflow's own database: nothing to check beyond DATABASE_URL"] };
      case 'ldap':
        return { ok: true, lines: await createLdapConnector(timeoutMs).check(ctx) };
      case 'scim':
        return { ok: true, lines: await createScimConnector(timeoutMs).check(ctx) };
      case 'http': {
        const cfg = connector.config as unknown as z.infer<typeof http.config>;
        const res = await httpCall(
          `${connector.name}.check`,
          {
            method: 'GET',
            url: cfg.baseUrl,
            headers: {
              ...headerValues(connector.name, cfg.headers),
              ...authHeader(connector.name, cfg.auth),
            },
            accept: (s) => s < 500 && s !== 401 && s !== 403,
          },
          timeoutMs,
        );
        return { ok: true, lines: [`${cfg.baseUrl} answers ${res.status} with these credentials`] };
      }
      case 'email':
      case 'slack': {
        const one = { get: () => Promise.resolve(connector) } as unknown as ActiveConnectors;
        return { ok: true, lines: await new Channels(one).check(connector.name, connector.type) };
      }
      default:
        return { ok: false, lines: [`no check for connector type ${connector.type}`] };
    }
  } catch (err) {
    if (err instanceof ApplicationFailure)
      return { ok: false, lines: [err.message], ...(err.type ? { failure: err.type } : {}) };
    return { ok: false, lines: [err instanceof Error ? err.message : String(err)] };
  }
}
