/**
 * Payload keys as an operator configures them: IDFLOW_PAYLOAD_KEYS (newest first) or the data
 * directory's payload-keys file; every bad entry named by position (and key id once it has
 * one), never the key; the variable's value hidden in configuration errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config';
import { newPayloadKeyEntry, parsePayloadKeys } from '../../src/temporal/payload-keys';

const b64 = (n: number, fill = 7) => Buffer.alloc(n, fill).toString('base64');
const K32 = b64(32);

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('no ConfigError');
}

describe('parsePayloadKeys', () => {
  test('entries in order, spaces and blank entries ignored, commas or line breaks between', () => {
    const { keys, problems } = parsePayloadKeys(` k2:${K32} ,  ,\nk1 : ${b64(32, 1)}\n,`);
    expect(problems).toEqual([]);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[1]?.key.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(parsePayloadKeys('')).toEqual({ keys: [], problems: [] });
  });

  test('each bad entry is named by its position, after the key id once it has one', () => {
    const { keys, problems } = parsePayloadKeys(
      [
        `ok:${K32}`,
        'no-colon',
        `bad id:${K32}`,
        'k3:not base64!',
        `k4:${b64(16)}`,
        `ok:${K32}`,
      ].join(','),
    );
    expect(keys.map((k) => k.id)).toEqual(['ok']);
    expect(problems).toEqual([
      'entry 2 must be <keyId>:<base64 of 32 bytes>',
      "entry 3: the key id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      "entry 4 (key 'k3'): the key is not base64",
      "entry 5 (key 'k4'): the key must be 32 bytes, not 16 (make one with: openssl rand -base64 32)",
      "entry 6: key id 'ok' is already used by entry 1",
    ]);
    // an id left out, base64 of a length no key has, a key without padding of the wrong size
    expect(parsePayloadKeys(`:${K32},k:abcde,k2:${b64(33)}`).problems).toEqual([
      "entry 1: the key id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      "entry 2 (key 'k'): the key is not base64",
      "entry 3 (key 'k2'): the key must be 32 bytes, not 33 (make one with: openssl rand -base64 32)",
    ]);
  });

  test('no problem ever quotes the key text of an entry', () => {
    const keyText = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 48 }).map((b) => Buffer.from(b).toString('base64')),
      fc.string({ minLength: 6, maxLength: 40 }).filter((s) => !/[,\r\n:]/.test(s)),
    );
    fc.assert(
      fc.property(fc.constantFrom('k1', 'bad id', '', '-x'), keyText, (id, key) => {
        fc.pre(key.trim().length >= 6 && !id.includes(key.trim()));
        const { problems } = parsePayloadKeys(`${id}:${key}`);
        for (const p of problems) expect(p).not.toContain(key.trim());
        // an entry without its id is key text alone: never echoed either
        for (const p of parsePayloadKeys(key).problems) expect(p).not.toContain(key.trim());
      }),
      { numRuns: 300 },
    );
  });

  test('a new entry is a valid key of its id', () => {
    const entry = newPayloadKeyEntry('dev-1');
    const { keys, problems } = parsePayloadKeys(entry);
    expect(problems).toEqual([]);
    expect(keys[0]?.id).toBe('dev-1');
    expect(keys[0]?.key).toHaveLength(32);
    expect(newPayloadKeyEntry('dev-1')).not.toBe(entry);
  });
});

describe('configuration', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'idflow-keys-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test('unset and no key file: no encryption; summaries carry ids only; the local Web UI may call the codec', () => {
    const config = loadConfig({ IDFLOW_DATA_DIR: dataDir, TEMPORAL_UI_PORT: '9233' });
    expect(config.payloads).toEqual({ keys: [], keySource: 'none', visiblePersonalData: false });
    expect(config.codec.corsOrigins).toEqual(['http://127.0.0.1:9233', 'http://localhost:9233']);
  });

  test('the variable wins, even empty, over the data directory file', () => {
    writeFileSync(join(dataDir, 'payload-keys'), `file-1:${K32}\n`);
    expect(loadConfig({ IDFLOW_DATA_DIR: dataDir }).payloads).toMatchObject({
      keySource: 'data-dir',
      keys: [{ id: 'file-1' }],
    });
    expect(
      loadConfig({ IDFLOW_DATA_DIR: dataDir, IDFLOW_PAYLOAD_KEYS: `env-2:${K32},env-1:${K32}` })
        .payloads,
    ).toMatchObject({ keySource: 'environment', keys: [{ id: 'env-2' }, { id: 'env-1' }] });
    expect(loadConfig({ IDFLOW_DATA_DIR: dataDir, IDFLOW_PAYLOAD_KEYS: '' }).payloads).toEqual({
      keys: [],
      keySource: 'environment',
      visiblePersonalData: false,
    });
  });

  test('bad keys are a ConfigError per entry, the value hidden', () => {
    const secret = b64(16, 9);
    const err = configError({ IDFLOW_PAYLOAD_KEYS: `k1:${secret},k2` });
    expect(err.problems).toEqual([
      "IDFLOW_PAYLOAD_KEYS=(hidden): entry 1 (key 'k1'): the key must be 32 bytes, not 16 (make one with: openssl rand -base64 32)",
      'IDFLOW_PAYLOAD_KEYS=(hidden): entry 2 must be <keyId>:<base64 of 32 bytes>',
    ]);
    expect(err.message).not.toContain(secret);
  });

  test('a bad key file is a ConfigError naming the file and the entry', () => {
    writeFileSync(join(dataDir, 'payload-keys'), `k1:${b64(8, 3)}\n`);
    const err = configError({ IDFLOW_DATA_DIR: dataDir });
    expect(err.problems).toEqual([
      `${join(dataDir, 'payload-keys')}: entry 1 (key 'k1'): the key must be 32 bytes, not 8 (make one with: openssl rand -base64 32)`,
    ]);
    expect(err.message).not.toContain(b64(8, 3));
  });

  test('IDFLOW_VISIBLE_PERSONAL_DATA and IDFLOW_CODEC_CORS_ORIGINS', () => {
    const config = loadConfig({
      IDFLOW_DATA_DIR: dataDir,
      IDFLOW_VISIBLE_PERSONAL_DATA: 'true',
      IDFLOW_CODEC_CORS_ORIGINS: 'https://temporal.example.com, http://127.0.0.1:8233',
    });
    expect(config.payloads.visiblePersonalData).toBe(true);
    expect(config.codec.corsOrigins).toEqual([
      'https://temporal.example.com',
      'http://127.0.0.1:8233',
    ]);
    expect(configError({ IDFLOW_VISIBLE_PERSONAL_DATA: 'yes' }).problems).toEqual([
      'IDFLOW_VISIBLE_PERSONAL_DATA="yes": must be true or false',
    ]);
    expect(
      configError({ IDFLOW_CODEC_CORS_ORIGINS: 'https://ui.example.com/path,ftp://x,*' }).problems,
    ).toEqual(
      [1, 2, 3].map(
        (i) =>
          `IDFLOW_CODEC_CORS_ORIGINS="https://ui.example.com/path,ftp://x,*": entry ${i} must be an origin like http://127.0.0.1:8233 (scheme, host and port, no path)`,
      ),
    );
  });
});
