/**
 * The one registry of connector types. The compiler resolves `type:` of Connector documents
 * and `op:` of actions here; an op that is not declared is a compile error, never a run that
 * retries forever.
 */
import { email } from './email';
import { http } from './http';
import { idstore } from './idstore';
import { ldap } from './ldap';
import { scim } from './scim';
import { slack } from './slack';
import type { ConnectorTypeSpec } from './spec';

export const CONNECTOR_TYPES: Readonly<Record<string, ConnectorTypeSpec>> = {
  [idstore.type]: idstore,
  [ldap.type]: ldap,
  [scim.type]: scim,
  [http.type]: http,
  [email.type]: email,
  [slack.type]: slack,
};

export function connectorType(type: string): ConnectorTypeSpec | undefined {
  return Object.hasOwn(CONNECTOR_TYPES, type) ? CONNECTOR_TYPES[type] : undefined;
}

/** Channel every `notify` step may use without a connector: the worker's log and the audit log. */
export const LOG_CHANNEL = 'log';
