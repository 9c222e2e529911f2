/**
 * LDAP result codes and client errors as idflow's failure types: bad credentials and missing
 * rights are ConnectorAuthFailed, a missing entry TargetNotFound, an existing one TargetConflict,
 * a busy or unreachable directory TargetUnavailable (retried), the rest InvalidRequest. The bind
 * password appears in no message.
 */
import { ResultCodeError } from 'ldapts';
import { connectorFailure, errorName } from '../errors';
import type { LdapConfig } from './ldap-directory';
import { certificateProblem, isNetworkError } from './support';

/** Throws the failure `err` stands for, naming `connector.op`. */
export function mapError(connector: string, op: string, err: unknown, cfg: LdapConfig): never {
  const where = `${connector}.${op}`;
  if (err instanceof ResultCodeError) {
    // The server's diagnostic text may quote DNs, filters and values (personal data): only the
    // result code and its name reach a message.
    const attribute = /^\s*([A-Za-z][A-Za-z0-9-]{0,63}):/.exec(err.message)?.[1];
    const detail = `LDAP result ${err.code}, ${errorName(err)}${attribute ? `, attribute ${attribute}` : ''}`;
    switch (err.code) {
      case 49:
        throw connectorFailure(
          'ConnectorAuthFailed',
          `${where}: the directory refused the bind as ${cfg.bindDn} (invalid credentials); check the password in ${cfg.bindPassword.secretEnv}`,
        );
      case 50:
      case 48:
      case 8:
      case 13:
        throw connectorFailure(
          'ConnectorAuthFailed',
          `${where}: ${cfg.bindDn} is not allowed to do this (${detail})`,
        );
      case 32:
        throw connectorFailure('TargetNotFound', `${where}: no such entry (${detail})`);
      case 68:
      case 20:
        throw connectorFailure('TargetConflict', `${where}: already exists (${detail})`);
      case 3:
      case 51:
      case 52:
      case 80:
        throw connectorFailure('TargetUnavailable', `${where}: the directory is busy (${detail})`);
      default:
        throw connectorFailure('InvalidRequest', `${where}: the directory refused it (${detail})`);
    }
  }
  const untrusted = certificateProblem(err);
  if (untrusted) {
    throw connectorFailure(
      'ConnectorAuthFailed',
      `${where}: the directory's TLS certificate is not trusted: ${untrusted}; give its CA in config.tls.caFile`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  const kind = errorName(err);
  if (
    isNetworkError(err) ||
    /timeout/i.test(name + message) ||
    /connection|socket/i.test(message)
  ) {
    throw connectorFailure(
      'TargetUnavailable',
      `${where}: cannot reach the directory at ${cfg.url} (${kind})`,
    );
  }
  // what remains is ours: a filter that does not parse, a value the client cannot encode; the
  // library's text would quote the filter or the value, so only the error's kind is named
  throw connectorFailure('InvalidRequest', `${where}: the request could not be sent (${kind})`);
}
