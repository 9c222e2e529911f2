/**
 * How idflow reaches its Temporal frontend beyond the address: TLS, a client certificate pair
 * (mTLS) and an API key, under the names of Temporal's environment configuration (the variables
 * the Temporal CLI and the SDKs' envconfig read), so one set of variables serves idflow and the
 * `temporal` CLI alike. The files are read at start-up: a missing or unreadable file, a
 * certificate without its key, or a setting the TypeScript SDK cannot honour is a ConfigError
 * naming the variables. The API key and the key file's contents never appear in a message.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod';

/** A boolean variable as Temporal's envconfig reads it: true or 1, false or 0. */
export const EnvBoolean = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false (or 1 or 0)' })
  .transform((text) => text === 'true' || text === '1');

/** The parsed variables this module turns into connection settings. */
export interface TemporalTlsVariables {
  TEMPORAL_API_KEY?: string | undefined;
  TEMPORAL_TLS?: boolean | undefined;
  TEMPORAL_TLS_CLIENT_CERT_PATH?: string | undefined;
  TEMPORAL_TLS_CLIENT_KEY_PATH?: string | undefined;
  TEMPORAL_TLS_SERVER_CA_CERT_PATH?: string | undefined;
  TEMPORAL_TLS_SERVER_NAME?: string | undefined;
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION?: boolean | undefined;
}

/**
 * TLS towards the frontend. No `serverCaCert`: the server's certificate must chain to a CA the
 * system trusts (Temporal Cloud's does). `clientCertPair`: mTLS. `serverName`: the name checked
 * in the server's certificate (and sent as SNI) instead of the address's host.
 */
export interface TemporalTls {
  serverCaCert?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverName?: string;
}

/**
 * The connection settings: `tls` undefined means plaintext (the default, as for
 * `temporal server start-dev`); `apiKey` is sent as a bearer token on every call.
 */
export interface TemporalConnectionSettings {
  tls?: TemporalTls;
  apiKey?: string;
}

const HOST_VERIFICATION_UNSUPPORTED =
  'is not supported: the Temporal TypeScript SDK always verifies the server certificate against its name; trust its CA with TEMPORAL_TLS_SERVER_CA_CERT_PATH, or set TEMPORAL_TLS_SERVER_NAME to a name its certificate carries';

/** Reads one file, or says why it cannot (never its contents). */
function readFile(
  name: string,
  path: string,
  problems: string[],
  check: (contents: Buffer) => string | undefined,
): Buffer | undefined {
  let contents: Buffer;
  try {
    contents = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'the file cannot be read (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `the file cannot be read (${code ?? 'error'})`;
    problems.push(`${name}=${JSON.stringify(path)}: ${why}`);
    return undefined;
  }
  const wrong = check(contents);
  if (wrong) {
    problems.push(`${name}=${JSON.stringify(path)}: ${wrong}`);
    return undefined;
  }
  return contents;
}

function certificate(contents: Buffer): string | undefined {
  try {
    new X509Certificate(contents);
    return undefined;
  } catch {
    return 'is not a PEM certificate';
  }
}

function privateKey(contents: Buffer): string | undefined {
  try {
    createPrivateKey(contents);
    return undefined;
  } catch {
    return 'is not an unencrypted PEM private key';
  }
}

/** Whether `key` is the private key of the certificate `crt` (both already parse). */
function isPair(crt: Buffer, key: Buffer): boolean {
  try {
    return new X509Certificate(crt).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

/**
 * The connection settings from the parsed variables, or every problem with them. TLS is on when
 * TEMPORAL_TLS=true, or when it is unset and an API key or any TEMPORAL_TLS_* file or name is
 * set (Temporal's envconfig rule); TEMPORAL_TLS=false with TLS files or a server name set is a
 * contradiction, not a silent plaintext connection.
 */
export function temporalConnectionSettings(v: TemporalTlsVariables): {
  settings: TemporalConnectionSettings;
  problems: string[];
} {
  const problems: string[] = [];
  const tlsNames = [
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    'TEMPORAL_TLS_SERVER_NAME',
  ] as const;
  const tlsSet = tlsNames.filter((name) => v[name] !== undefined);
  if (v.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === true)
    problems.push(
      `TEMPORAL_TLS_DISABLE_HOST_VERIFICATION="true": ${HOST_VERIFICATION_UNSUPPORTED}`,
    );
  if (v.TEMPORAL_TLS === false && tlsSet.length)
    problems.push(
      `TEMPORAL_TLS="false": contradicts ${tlsSet.join(', ')} (unset TEMPORAL_TLS to connect with TLS, or unset ${tlsSet.length > 1 ? 'them' : 'it'})`,
    );
  const certPath = v.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = v.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if ((certPath === undefined) !== (keyPath === undefined))
    problems.push(
      `TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: set both (the client certificate and its private key, for mTLS) or neither; only ${certPath === undefined ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH'} is set`,
    );
  const serverCaCert =
    v.TEMPORAL_TLS_SERVER_CA_CERT_PATH === undefined
      ? undefined
      : readFile(
          'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
          v.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
          problems,
          certificate,
        );
  const crt =
    certPath === undefined
      ? undefined
      : readFile('TEMPORAL_TLS_CLIENT_CERT_PATH', certPath, problems, certificate);
  const key =
    keyPath === undefined
      ? undefined
      : readFile('TEMPORAL_TLS_CLIENT_KEY_PATH', keyPath, problems, privateKey);
  if (crt && key) {
    if (!isPair(crt, key))
      problems.push(
        'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: the private key is not the key of the certificate',
      );
  }
  const tlsOn =
    v.TEMPORAL_TLS ?? (v.TEMPORAL_API_KEY !== undefined || tlsSet.length > 0 ? true : false);
  const settings: TemporalConnectionSettings = {
    ...(tlsOn
      ? {
          tls: {
            ...(serverCaCert ? { serverCaCert } : {}),
            ...(crt && key ? { clientCertPair: { crt, key } } : {}),
            ...(v.TEMPORAL_TLS_SERVER_NAME ? { serverName: v.TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
    ...(v.TEMPORAL_API_KEY !== undefined ? { apiKey: v.TEMPORAL_API_KEY } : {}),
  };
  return { settings, problems };
}
