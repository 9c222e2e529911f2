/**
 * TEMPORAL_API_KEY and TEMPORAL_TLS*: parsed and checked at start-up like every other setting,
 * under the names and rules of Temporal's environment configuration, and turned by one function
 * into the options every connection to Temporal uses. Bad settings are named with the exact
 * message an operator reads; the API key and a key file's contents never appear in one.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config';
import {
  describeTemporalConnection,
  isPlaintext,
  temporalConnectionOptions,
} from '../../src/temporal/connection-options';
import { makeTestCerts, type TestCerts } from '../support/tls-certs';

let dir: string;
let certs: TestCerts;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idflow-tls-config-'));
  certs = makeTestCerts(dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems loadConfig names for `env`, or [] when it accepts it. */
function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

const options = (env: NodeJS.ProcessEnv) => temporalConnectionOptions(loadConfig(env).temporal);

describe('connection options', () => {
  it('are plaintext by default, TLS stated as false so nothing turns it on', () => {
    const config = loadConfig({});
    expect(config.temporal.connection).toEqual({});
    expect(temporalConnectionOptions(config.temporal)).toEqual({
      address: '127.0.0.1:7233',
      tls: false,
    });
    expect(isPlaintext(config.temporal)).toBe(true);
    expect(describeTemporalConnection(config.temporal)).toBe('127.0.0.1:7233 (plaintext)');
  });

  it('send an API key over TLS the system trusts (Temporal Cloud)', () => {
    const env = {
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'idflow-prod.a1b2c',
      TEMPORAL_API_KEY: 'key-of-the-service-account',
    };
    expect(options(env)).toEqual({
      address: 'eu-west-1.aws.api.temporal.io:7233',
      tls: {},
      apiKey: 'key-of-the-service-account',
    });
    const config = loadConfig(env);
    expect(isPlaintext(config.temporal)).toBe(false);
    expect(describeTemporalConnection(config.temporal)).toBe(
      'eu-west-1.aws.api.temporal.io:7233 (TLS, server CA the system trusts, no client certificate, API key)',
    );
  });

  it('keep an API key in plaintext with TEMPORAL_TLS=false (a TLS-terminating proxy)', () => {
    expect(options({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' })).toEqual({
      address: '127.0.0.1:7233',
      tls: false,
      apiKey: 'k',
    });
  });

  it.each(['true', '1'])('turn TLS on with TEMPORAL_TLS=%s alone', (value) => {
    expect(options({ TEMPORAL_TLS: value })).toEqual({ address: '127.0.0.1:7233', tls: {} });
  });

  it.each(['false', '0'])('stay plaintext with TEMPORAL_TLS=%s', (value) => {
    expect(options({ TEMPORAL_TLS: value })).toEqual({ address: '127.0.0.1:7233', tls: false });
  });

  it('carry the server CA, the server name and the client pair, read from the files (mTLS)', () => {
    const opts = options({
      TEMPORAL_ADDRESS: 'temporal-frontend.temporal:7233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.idflow.test',
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    });
    expect(opts).toEqual({
      address: 'temporal-frontend.temporal:7233',
      tls: {
        serverRootCACertificate: readFileSync(certs.caCert),
        serverNameOverride: 'temporal.idflow.test',
        clientCertPair: { crt: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) },
      },
    });
  });

  it('turn TLS on when only a TLS file or the server name is set (envconfig rule)', () => {
    expect(options({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert }).tls).toEqual({
      serverRootCACertificate: readFileSync(certs.caCert),
    });
    expect(options({ TEMPORAL_TLS_SERVER_NAME: 'temporal.idflow.test' }).tls).toEqual({
      serverNameOverride: 'temporal.idflow.test',
    });
    expect(
      describeTemporalConnection(
        loadConfig({
          TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
          TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
        }).temporal,
      ),
    ).toBe('127.0.0.1:7233 (TLS, server CA the system trusts, client certificate (mTLS))');
  });

  it('accept TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=false (the default)', () => {
    expect(options({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }).tls).toBe(false);
  });
});

describe('bad settings', () => {
  it('a certificate without its key, or a key without its certificate, names both', () => {
    expect(problems({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert })).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: set both (the client certificate and its private key, for mTLS) or neither; only TEMPORAL_TLS_CLIENT_CERT_PATH is set',
    ]);
    expect(problems({ TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey })).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: set both (the client certificate and its private key, for mTLS) or neither; only TEMPORAL_TLS_CLIENT_KEY_PATH is set',
    ]);
  });

  it('a file that is missing, a directory, or not PEM is named with its path, never its contents', () => {
    const missing = join(dir, 'nowhere', 'ca.pem');
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing })).toEqual([
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH=${JSON.stringify(missing)}: no such file`,
    ]);
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: dir })).toEqual([
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH=${JSON.stringify(dir)}: is a directory, not a file`,
    ]);
    const found = problems({
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientKey,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientCert,
    });
    expect(found).toEqual([
      `TEMPORAL_TLS_CLIENT_CERT_PATH=${JSON.stringify(certs.clientKey)}: is not a PEM certificate`,
      `TEMPORAL_TLS_CLIENT_KEY_PATH=${JSON.stringify(certs.clientCert)}: is not an unencrypted PEM private key`,
    ]);
    expect(found.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('an unreadable file is named', () => {
    if (process.getuid?.() === 0) return; // root reads any file
    const locked = join(dir, 'locked.pem');
    writeFileSync(locked, readFileSync(certs.caCert));
    chmodSync(locked, 0o000);
    expect(problems({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: locked })).toEqual([
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH=${JSON.stringify(locked)}: the file cannot be read (permission denied)`,
    ]);
  });

  it('a key that is not the certificate’s is named', () => {
    expect(
      problems({
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.strangerKey,
      }),
    ).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: the private key is not the key of the certificate',
    ]);
  });

  it('disabling host verification is refused: the TypeScript SDK cannot', () => {
    expect(problems({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toEqual([
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION="true": is not supported: the Temporal TypeScript SDK always verifies the server certificate against its name; trust its CA with TEMPORAL_TLS_SERVER_CA_CERT_PATH, or set TEMPORAL_TLS_SERVER_NAME to a name its certificate carries',
    ]);
  });

  it('TEMPORAL_TLS=false beside TLS files is a contradiction, not a silent plaintext connection', () => {
    expect(
      problems({
        TEMPORAL_TLS: 'false',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
        TEMPORAL_TLS_SERVER_NAME: 'temporal.idflow.test',
      }),
    ).toEqual([
      'TEMPORAL_TLS="false": contradicts TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME (unset TEMPORAL_TLS to connect with TLS, or unset them)',
    ]);
  });

  it('empty values are named; an empty API key is hidden too', () => {
    expect(
      problems({
        TEMPORAL_API_KEY: '',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '',
        TEMPORAL_TLS_SERVER_NAME: '',
      }),
    ).toEqual([
      'TEMPORAL_API_KEY=(hidden): must not be empty (unset it for no API key)',
      'TEMPORAL_TLS_CLIENT_CERT_PATH="": must be a file path (unset it instead of leaving it empty)',
      'TEMPORAL_TLS_SERVER_NAME="": must not be empty (unset it instead)',
    ]);
  });
});

describe('properties', () => {
  it('a boolean setting is accepted exactly when it is true, false, 1 or 0, else named', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'yes', ' true'), fc.string()),
        fc.constantFrom('TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'),
        (value, name) => {
          const found = problems({ [name]: value });
          if (['false', '0'].includes(value)) expect(found).toEqual([]);
          else if (['true', '1'].includes(value))
            expect(found).toHaveLength(name === 'TEMPORAL_TLS' ? 0 : 1);
          else
            expect(found).toEqual([
              `${name}=${JSON.stringify(value)}: must be true or false (or 1 or 0)`,
            ]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a path that names no file is named exactly, for each file variable', () => {
    const absent = join(dir, 'absent');
    mkdirSync(absent, { recursive: true });
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9._-]{1,20}$/).filter((n) => n !== '.' && n !== '..'),
        fc.constantFrom(
          'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
          'TEMPORAL_TLS_CLIENT_CERT_PATH',
          'TEMPORAL_TLS_CLIENT_KEY_PATH',
        ),
        (file, name) => {
          const path = join(absent, file);
          const pair =
            name === 'TEMPORAL_TLS_CLIENT_CERT_PATH'
              ? { TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey }
              : name === 'TEMPORAL_TLS_CLIENT_KEY_PATH'
                ? { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert }
                : {};
          expect(problems({ ...pair, [name]: path })).toEqual([
            `${name}=${JSON.stringify(path)}: no such file`,
          ]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('neither the API key nor a key file’s contents appear in any error', () => {
    const keyText = readFileSync(certs.clientKey, 'utf8');
    const keyBody = keyText.split('\n')[1] as string;
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{16,64}$/),
        fc.subarray(
          [
            { TEMPORAL_TLS: 'maybe' },
            { TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' },
            { TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey },
            { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientKey },
            { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.strangerCert },
            { TEMPORAL_ADDRESS: 'no port' },
          ],
          { minLength: 1 },
        ),
        (apiKey, parts) => {
          const env: NodeJS.ProcessEnv = { TEMPORAL_API_KEY: apiKey };
          for (const part of parts) Object.assign(env, part);
          let message = '';
          try {
            loadConfig(env);
          } catch (err) {
            message = (err as Error).message;
          }
          expect(message).not.toContain(apiKey);
          expect(message).not.toContain(keyBody);
        },
      ),
      { numRuns: 100 },
    );
  });
});
