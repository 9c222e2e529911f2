/**
 * The Temporal client of the gateway and the CLI. The connection is lazy: the gateway starts
 * and answers (503) while Temporal is down, and reconnects when it is back. Payloads go
 * through idflow's data converter (encrypted when keys are configured).
 */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { idflowDataConverter } from './data-converter';

export function createTemporalClient(config: Config): {
  client: Client;
  close: () => Promise<void>;
} {
  const connection = Connection.lazy({ address: config.temporal.address, connectTimeout: 3_000 });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: idflowDataConverter(config.payloads.keys),
  });
  return { client, close: () => connection.close() };
}
