import { ConfigError, loadConfig, readSecret } from '../../src/config';

test('defaults give an embedded setup: PGlite, local Temporal, port 8080', () => {
  const config = loadConfig({});
  expect(config.databaseUrl).toBeUndefined();
  expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
  expect(config.temporal).toMatchObject({
    address: '127.0.0.1:7233',
    namespace: 'default',
    taskQueue: 'idflow',
    uiPort: 8233,
  });
});

test('every bad variable is named at once', () => {
  let error: unknown;
  try {
    loadConfig({
      IDFLOW_PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      TEMPORAL_ADDRESS: 'localhost',
      IDFLOW_LOG_LEVEL: 'loud',
    });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems.map((p) => p.split('=')[0]).sort();
  expect(problems).toEqual(['DATABASE_URL', 'IDFLOW_LOG_LEVEL', 'IDFLOW_PORT', 'TEMPORAL_ADDRESS']);
});

test('a missing secret names the variable, never a value', () => {
  expect(() => readSecret('LDAP_BIND_PASSWORD', {})).toThrow(
    'secret LDAP_BIND_PASSWORD is not set',
  );
  expect(readSecret('X', { X: 's3cret' })).toBe('s3cret');
});
