/**
 * The one place a Temporal connection's options are built: the gateway's and the CLI's client
 * (`Connection`), the worker's `NativeConnection` and `idflow dev`'s probe all connect with the
 * same address, TLS, client certificate pair and API key, from TEMPORAL_ADDRESS, TEMPORAL_TLS*
 * and TEMPORAL_API_KEY (src/config).
 */
import type { TLSConfig } from '@temporalio/client';
import type { Config } from '../config';

/** What both `Connection.connect`/`Connection.lazy` and `NativeConnection.connect` accept. */
export interface TemporalConnectionOptions {
  address: string;
  /**
   * Always explicit: `false` keeps a connection that carries an API key in plaintext when
   * TEMPORAL_TLS=false (the SDK would otherwise turn TLS on for an API key).
   */
  tls: TLSConfig | false;
  apiKey?: string;
}

export function temporalConnectionOptions(
  temporal: Pick<Config['temporal'], 'address' | 'connection'>,
): TemporalConnectionOptions {
  const { tls, apiKey } = temporal.connection;
  return {
    address: temporal.address,
    tls: tls
      ? {
          ...(tls.serverCaCert ? { serverRootCACertificate: tls.serverCaCert } : {}),
          ...(tls.clientCertPair ? { clientCertPair: tls.clientCertPair } : {}),
          ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
        }
      : false,
    ...(apiKey !== undefined ? { apiKey } : {}),
  };
}

/** Whether the connection is plain, as `temporal server start-dev` serves it. */
export function isPlaintext(temporal: Pick<Config['temporal'], 'connection'>): boolean {
  return !temporal.connection.tls && temporal.connection.apiKey === undefined;
}

/**
 * How idflow connects, for errors and logs: the address, whether TLS is on and with what, and
 * whether an API key is sent (never the key, never a file's contents).
 */
export function describeTemporalConnection(
  temporal: Pick<Config['temporal'], 'address' | 'connection'>,
): string {
  const { tls, apiKey } = temporal.connection;
  const parts = tls
    ? [
        tls.serverCaCert
          ? 'TLS, server CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH'
          : 'TLS, server CA the system trusts',
        ...(tls.serverName ? [`server name ${tls.serverName}`] : []),
        tls.clientCertPair ? 'client certificate (mTLS)' : 'no client certificate',
      ]
    : ['plaintext'];
  if (apiKey !== undefined) parts.push('API key');
  return `${temporal.address} (${parts.join(', ')})`;
}
