import { findInlineSecrets, isSecretKey } from '../../../src/dsl/secrets';

test.each([
  'password',
  'bindPassword',
  'client_secret',
  'apiKey',
  'api-key',
  'accessToken',
  'privateKey',
  'credentials',
])('%s names a secret', (key) => expect(isSecretKey(key)).toBe(true));

test.each(['tokenType', 'passwordPolicy', 'keyAttribute', 'secretEnv', 'owner', 'monkey'])(
  '%s does not name a secret',
  (key) => expect(isSecretKey(key)).toBe(false),
);

test('references, interpolations and empty values are not inline secrets', () => {
  expect(
    findInlineSecrets({
      config: { bindPassword: { secretEnv: 'LDAP_BIND_PASSWORD' }, token: '' },
      args: { password: '${vars.initialPassword}' },
    }),
  ).toEqual([]);
});

test('inline secrets are found with their paths, and their values never appear in messages', () => {
  const found = findInlineSecrets({
    config: { bindPassword: 'hunter2', url: 'ldaps://admin:hunter3@ldap.example.com' },
    steps: [{ args: { apiKey: 12345 } }],
  });
  expect(found.map((f) => f.path)).toEqual([
    ['config', 'bindPassword'],
    ['config', 'url'],
    ['steps', 0, 'args', 'apiKey'],
  ]);
  for (const f of found) expect(f.message).not.toMatch(/hunter|12345/);
});
