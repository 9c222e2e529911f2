/**
 * The Temporal client of the gateway and the CLI. The connection is lazy: the gateway starts
 * and answers (503) while Temporal is down, and reconnects when it is back. Payloads go
 * through idflow's data converter (encrypted when keys are configured); TLS, mTLS and the API
 * key come from the configuration (connection-options).
 */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from './connection-options';
import { idflowDataConverter } from './data-converter';

export function createTemporalClient(config: Config): {
  client: Client;
  close: () => Promise<void>;
} {
  const connection = Connection.lazy({
    ...temporalConnectionOptions(config.temporal),
    connectTimeout: 3_000,
  });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: idflowDataConverter(config.payloads.keys),
  });
  return { client, close: () => connection.close() };
}
