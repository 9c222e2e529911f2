/**
 * TLS and mTLS towards Temporal, end to end. `temporal server start-dev` (CLI 1.5.1) has no TLS
 * flags, so the suite's dev server is reached here through a TLS terminator of this file's own
 * (node:tls, ALPN h2, a server certificate for temporal.idflow.test, client certificates
 * required and checked against a throwaway CA made with openssl): every byte idflow sends
 * crosses a real TLS 1.3 handshake with client verification. The settings are TEMPORAL_TLS_*,
 * parsed by loadConfig; the client (gateway, CLI) and the worker's NativeConnection connect with
 * them, `idflow worker` starts with them, and without the client certificate, the CA or TLS at
 * all the connection fails with an error that says how idflow tried to connect.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createTemporalClient } from '../../src/temporal/client';
import { temporalConnectionOptions } from '../../src/temporal/connection-options';
import { freePort } from '../support/ports';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { makeTestCerts, SERVER_NAME, type TestCerts } from '../support/tls-certs';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'idflow.js');

let dir: string;
let certs: TestCerts;
let proxy: Server;
let address: string;
/** Common names of the client certificates the terminator accepted. */
const accepted: string[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  const upstream = process.env.IDFLOW_TEST_TEMPORAL;
  if (!upstream) throw new Error('IDFLOW_TEST_TEMPORAL is not set (the global setup sets it)');
  const [upHost, upPort] = upstream.split(':') as [string, string];
  dir = mkdtempSync(join(tmpdir(), 'idflow-tls-'));
  certs = makeTestCerts(dir);
  proxy = createServer(
    {
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: readFileSync(certs.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate();
      accepted.push(String(peer.subject?.CN));
      const plain = netConnect(Number(upPort), upHost);
      for (const s of [socket, plain]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      }
      socket.on('error', () => plain.destroy());
      plain.on('error', () => socket.destroy());
      socket.pipe(plain).pipe(socket);
    },
  );
  proxy.on('tlsClientError', () => undefined);
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** TLS with the test CA, the server's name and the client pair. */
const mtls = (): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: address,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
});

/** The same without one variable. */
const without = (name: string): NodeJS.ProcessEnv => {
  const env = mtls();
  delete env[name];
  if (name === 'TEMPORAL_TLS_CLIENT_CERT_PATH') delete env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  return env;
};

describe('TLS towards Temporal', () => {
  it("the gateway's and the CLI's client answers through mTLS", async () => {
    const before = accepted.length;
    const temporal = createTemporalClient(loadConfig(mtls()));
    try {
      const info = await temporal.client.connection.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
      const namespace = await temporal.client.connection.workflowService.describeNamespace({
        namespace: 'default',
      });
      expect(namespace.namespaceInfo?.name).toBe('default');
    } finally {
      await temporal.close();
    }
    expect(accepted.slice(before)).toContain('idflow-worker');
  });

  it("the worker's NativeConnection answers through mTLS", async () => {
    const before = accepted.length;
    const config = loadConfig(mtls());
    const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
    } finally {
      await connection.close();
    }
    expect(accepted.slice(before)).toContain('idflow-worker');
  });

  it.each([
    ['without the client certificate', () => without('TEMPORAL_TLS_CLIENT_CERT_PATH')],
    ['without the server CA', () => without('TEMPORAL_TLS_SERVER_CA_CERT_PATH')],
    ['without the server name', () => without('TEMPORAL_TLS_SERVER_NAME')],
    ['in plaintext', () => ({ TEMPORAL_ADDRESS: address })],
  ])('the client cannot connect %s', async (_, env) => {
    const config = loadConfig(env());
    await expect(
      Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 3_000 }),
    ).rejects.toThrow();
  });

  it.each([
    [
      'without the client certificate',
      () => without('TEMPORAL_TLS_CLIENT_CERT_PATH'),
      /CertificateRequired|connection closed|broken pipe/,
    ],
    [
      'without the server CA',
      () => without('TEMPORAL_TLS_SERVER_CA_CERT_PATH'),
      /InvalidCertificate\(UnknownIssuer\)/,
    ],
    [
      'without the server name',
      () => without('TEMPORAL_TLS_SERVER_NAME'),
      /InvalidCertificate\(NotValidForName/,
    ],
    ['in plaintext', () => ({ TEMPORAL_ADDRESS: address }), /transport error/],
  ])('the NativeConnection cannot connect %s', async (_, env, why) => {
    const config = loadConfig(env());
    const connecting = NativeConnection.connect(temporalConnectionOptions(config.temporal)).then(
      async (connection) => {
        // a refused client certificate can surface at the first call, after the handshake
        try {
          await connection.workflowService.getSystemInfo({});
        } finally {
          await connection.close();
        }
      },
    );
    await expect(connecting).rejects.toThrow(why);
  });
});

describe('idflow worker with TLS settings', () => {
  let dataDir: string;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('idflow_tls');
    dataDir = mkdtempSync(join(tmpdir(), 'idflow-tls-worker-'));
    // the suite's prebuilt workflow bundle, so the worker need not bundle again
    const bundle = join(ROOT, '.idflow', 'bundle');
    if (existsSync(bundle)) cpSync(bundle, join(dataDir, 'bundle'), { recursive: true });
    else mkdirSync(join(dataDir, 'bundle'));
  });

  afterAll(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs `idflow worker` until it logs that it started (then stops it) or exits. */
  function runWorker(
    tls: NodeJS.ProcessEnv,
  ): Promise<{ started: boolean; code: number | null; stderr: string }> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...tls,
      DATABASE_URL: db.url,
      IDFLOW_DATA_DIR: dataDir,
      IDFLOW_DEFINITIONS: join(ROOT, 'definitions'),
      TEMPORAL_TASK_QUEUE: 'idflow-tls',
      IDFLOW_LOG_LEVEL: 'info',
    };
    delete env.IDFLOW_METRICS_PORT;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'worker'], { cwd: ROOT, env });
      let stdout = '';
      let stderr = '';
      let started = false;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!started && stdout.includes('"worker started"')) {
          started = true;
          child.kill('SIGTERM');
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ started, code, stderr });
      });
    });
  }

  it('starts and polls through mTLS', async () => {
    const before = accepted.length;
    const run = await runWorker(mtls());
    expect(run.stderr).toBe('');
    expect(run.started).toBe(true);
    expect(accepted.slice(before)).toContain('idflow-worker');
  });

  it('exits 1 naming how it tried to connect when the client certificate is missing', async () => {
    const run = await runWorker(without('TEMPORAL_TLS_CLIENT_CERT_PATH'));
    expect(run.started).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `idflow: cannot connect to Temporal at ${address} (TLS, server CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH, server name ${SERVER_NAME}, no client certificate): `,
    );
    // the server's alert, or the connection it closes (read, or written to: a broken pipe),
    // whichever the client meets first
    expect(run.stderr).toMatch(/CertificateRequired|connection closed|broken pipe/);
  });

  it('exits 2 naming both variables when only the certificate is set', async () => {
    const run = await runWorker(without('TEMPORAL_TLS_CLIENT_KEY_PATH'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: set both (the client certificate and its private key, for mTLS) or neither; only TEMPORAL_TLS_CLIENT_CERT_PATH is set',
    );
  });
});
