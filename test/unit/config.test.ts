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

test('rate limits and the refusal audit interval: defaults, values, and each bad one named', () => {
  expect(loadConfig({}).http).toMatchObject({
    rateLimitPerMinute: 6000,
    sourceRateLimitPerMinute: 6000,
    refusalAuditIntervalMs: 60_000,
  });
  expect(
    loadConfig({
      IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE: '120',
      IDFLOW_REFUSAL_AUDIT_INTERVAL: '500ms',
    }).http,
  ).toMatchObject({ sourceRateLimitPerMinute: 120, refusalAuditIntervalMs: 500 });
  expect(loadConfig({ IDFLOW_REFUSAL_AUDIT_INTERVAL: '5m' }).http.refusalAuditIntervalMs).toBe(
    300_000,
  );
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  expect(
    problems({ IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE: '0', IDFLOW_REFUSAL_AUDIT_INTERVAL: '1h' }),
  ).toEqual([
    'IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE="0": must be at least 1',
    'IDFLOW_REFUSAL_AUDIT_INTERVAL="1h": must be a duration like 60s',
  ]);
  expect(problems({ IDFLOW_REFUSAL_AUDIT_INTERVAL: '61m' })).toEqual([
    'IDFLOW_REFUSAL_AUDIT_INTERVAL="61m": must be between 100ms and 60m',
  ]);
  expect(problems({ IDFLOW_REFUSAL_AUDIT_INTERVAL: '50ms' })).toEqual([
    'IDFLOW_REFUSAL_AUDIT_INTERVAL="50ms": must be between 100ms and 60m',
  ]);
});

test('registering search attributes: auto by default, true and false, a bad value named', () => {
  expect(loadConfig({}).temporal.registerSearchAttributes).toBe('auto');
  for (const value of ['auto', 'true', 'false'] as const)
    expect(
      loadConfig({ IDFLOW_REGISTER_SEARCH_ATTRIBUTES: value }).temporal.registerSearchAttributes,
    ).toBe(value);
  for (const value of ['yes', 'TRUE', ''])
    expect(() => loadConfig({ IDFLOW_REGISTER_SEARCH_ATTRIBUTES: value })).toThrow(
      `invalid configuration:\n  IDFLOW_REGISTER_SEARCH_ATTRIBUTES=${JSON.stringify(value)}: must be auto, true or false`,
    );
});

test('the database pool: 10 connections a process by default, 1 to 200, a bad value named', () => {
  expect(loadConfig({}).databasePoolSize).toBe(10);
  expect(loadConfig({ IDFLOW_DATABASE_POOL_SIZE: '1' }).databasePoolSize).toBe(1);
  expect(loadConfig({ IDFLOW_DATABASE_POOL_SIZE: '200' }).databasePoolSize).toBe(200);
  for (const [value, why] of [
    ['0', 'must be at least 1'],
    ['201', 'must be at most 200'],
    ['2.5', 'must be a whole number'],
    ['many', 'must be a number'],
  ])
    expect(() => loadConfig({ IDFLOW_DATABASE_POOL_SIZE: value })).toThrow(
      `invalid configuration:\n  IDFLOW_DATABASE_POOL_SIZE=${JSON.stringify(value)}: ${why}`,
    );
});
