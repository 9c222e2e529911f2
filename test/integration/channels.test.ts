/**
 * The http connector against a local REST service, and the email and slack notification
 * channels against a real SMTP server (with login and STARTTLS) and the fake Slack Web API.
 */
import type { Server } from 'node:http';
import express from 'express';
import { atPointer, createHttpConnector } from '../../activities/connectors/http';
import type { OpContext } from '../../activities/connectors/types';
import { Channels, closeChannels, messageIdOf } from '../../activities/notify/channels';
import type { ActiveConnectors } from '../../src/connectors/active';
import type { ConnectorIR } from '../../src/dsl/ir';
import { startSmtpTarget, type SmtpTarget } from '../../src/targets/smtp';
import { FakeSlack } from '../support/fake-slack';
import { failure } from '../support/failures';
import { opContext } from '../support/op-context';
import { freePort } from '../support/ports';

let api: Server;
let apiUrl = '';
const seen: Array<{
  method: string;
  path: string;
  headers: Record<string, unknown>;
  body: unknown;
}> = [];
let smtp: SmtpTarget;
let elsewherePort = 0;
const elsewhereHits: string[] = [];
let elsewhere: Server;
let slack: FakeSlack;
const connectors = new Map<string, ConnectorIR>();
const channels = new Channels({
  get: (name: string) => Promise.resolve(connectors.get(name)),
} as unknown as ActiveConnectors);
const { ops } = createHttpConnector(3_000);

function ctx(config: Record<string, unknown>): OpContext {
  return opContext(
    'tickets',
    { baseUrl: apiUrl, ...config },
    {
      idempotencyKey: 'flow/x/p-1/e-1:open-ticket',
      runId: 'flow/x/p-1/e-1',
      flow: 'x',
      stepId: 'open-ticket',
    },
  );
}

beforeAll(async () => {
  process.env.TEST_TICKETS_TOKEN = 'tickets-token-5c2e';
  process.env.TEST_SMTP_PASSWORD = 'smtp-pass-91ab';
  process.env.TEST_SMTP_WRONG = 'smtp-wrong-0000';
  process.env.TEST_SLACK_TOKEN = 'xoxb-test-slack';
  const app = express();
  app.use(express.json());
  app.use((req, res) => {
    seen.push({ method: req.method, path: req.url, headers: req.headers, body: req.body });
    if (req.headers.authorization !== 'Bearer tickets-token-5c2e') {
      res.status(401).json({ error: 'unauthorised' });
      return;
    }
    if (req.path === '/v2/tickets' && req.method === 'POST') {
      res.status(201).json({ ticket: { id: 'T-42', url: 'https://tickets/T-42' } });
      return;
    }
    if (req.path === '/v2/moved') {
      res.redirect(307, `http://127.0.0.1:${elsewherePort}/steal`);
      return;
    }
    if (req.path === '/v2/tickets/T-42') {
      res.json({ ticket: { id: 'T-42', state: 'open' } });
      return;
    }
    res.status(422).json({ error: 'no such thing' });
  });
  api = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = api.address();
  apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v2/`;
  elsewhere = await new Promise<Server>((resolve) => {
    const s = express()
      .use((req, res) => {
        elsewhereHits.push(req.url);
        res.json({});
      })
      .listen(0, '127.0.0.1', () => resolve(s));
  });
  const other = elsewhere.address();
  elsewherePort = typeof other === 'object' && other ? other.port : 0;
  smtp = await startSmtpTarget({
    auth: { user: 'idflow', password: 'smtp-pass-91ab' },
    startTls: true,
  });
  slack = new FakeSlack('xoxb-test-slack', { 'ada@example.com': 'U0ADA' });
  await slack.start();
  const email = (name: string, secretEnv: string): ConnectorIR => ({
    name,
    type: 'email',
    config: {
      host: '127.0.0.1',
      port: smtp.port,
      startTls: 'required',
      tls: { rejectUnauthorized: false },
      auth: { user: 'idflow', password: { secretEnv } },
      from: 'IAM <iam@example.com>',
    },
  });
  connectors.set('mail', email('mail', 'TEST_SMTP_PASSWORD'));
  connectors.set('bad-mail', email('bad-mail', 'TEST_SMTP_WRONG'));
  connectors.set('chat', {
    name: 'chat',
    type: 'slack',
    config: { botToken: { secretEnv: 'TEST_SLACK_TOKEN' }, apiUrl: slack.url },
  });
});

afterAll(async () => {
  closeChannels();
  await new Promise((resolve) => api?.close(resolve));
  await new Promise((resolve) => elsewhere?.close(resolve));
  await smtp?.stop();
  await slack?.stop();
});

test('JSON pointers', () => {
  const doc = { a: { 'b/c': [10, { d: 'x' }] } };
  expect(atPointer(doc, '/a/b~1c/1/d')).toBe('x');
  expect(atPointer(doc, '/a/missing')).toBeUndefined();
  expect(atPointer(doc, '')).toBe(doc);
});

test('http request: body, auth, idempotency key, expected status, picked values', async () => {
  const c = ctx({ auth: { type: 'bearer', token: { secretEnv: 'TEST_TICKETS_TOKEN' } } });
  const result = await ops.request(
    {
      method: 'POST',
      path: 'tickets',
      body: { title: 'Laptop for Ada' },
      expectStatus: [201],
      pick: { id: '/ticket/id', url: '/ticket/url' },
    },
    c,
  );
  expect(result).toEqual({
    status: 201,
    body: { ticket: { id: 'T-42', url: 'https://tickets/T-42' } },
    values: { id: 'T-42', url: 'https://tickets/T-42' },
  });
  const last = seen[seen.length - 1];
  expect(last).toMatchObject({
    method: 'POST',
    path: '/v2/tickets',
    body: { title: 'Laptop for Ada' },
  });
  expect(last?.headers['idempotency-key']).toBe('flow/x/p-1/e-1:open-ticket');
  const got = await ops.request(
    {
      method: 'GET',
      path: '/tickets/T-42',
      query: { verbose: true },
      pick: { state: '/ticket/state' },
    },
    c,
  );
  expect(got.values).toEqual({ state: 'open' });
  expect(seen[seen.length - 1]?.path).toBe('/v2/tickets/T-42?verbose=true');
});

test('http failures: wrong token, unexpected status, missing value, a path leaving the base', async () => {
  process.env.TEST_TICKETS_WRONG = 'nope';
  const wrong = await failure(
    ops.request(
      { method: 'GET', path: 'tickets/T-42' },
      ctx({ auth: { type: 'bearer', token: { secretEnv: 'TEST_TICKETS_WRONG' } } }),
    ),
  );
  expect(wrong.type).toBe('ConnectorAuthFailed');
  expect(wrong.nonRetryable).toBe(true);
  const c = ctx({ auth: { type: 'bearer', token: { secretEnv: 'TEST_TICKETS_TOKEN' } } });
  const unexpected = await failure(ops.request({ method: 'GET', path: 'elsewhere' }, c));
  expect(unexpected.type).toBe('InvalidRequest');
  expect(unexpected.message).toContain('answered 422');
  const missing = await failure(
    ops.request({ method: 'GET', path: 'tickets/T-42', pick: { owner: '/ticket/owner' } }, c),
  );
  expect(missing.type).toBe('InvalidResponse');
  const escape = await failure(ops.request({ method: 'GET', path: 'http://evil.example/x' }, c));
  expect(escape.type).toBe('InvalidRequest');
  const down = await failure(
    ops.request(
      { method: 'GET', path: 'x' },
      { ...c, config: { ...c.config, baseUrl: `http://127.0.0.1:${await freePort()}/` } },
    ),
  );
  expect(down.type).toBe('TargetUnavailable');
});

test('email over STARTTLS with a login: the rendered message and its CSV arrive', async () => {
  const before = smtp.messages.length;
  const delivery = await channels.sendEmail(
    'mail',
    'ada@example.com',
    { subject: 'Dormant accounts', text: 'See the attached list.', html: '<p>See the list.</p>' },
    [
      {
        filename: 'dormant.csv',
        content: 'id,last\r\nbob,2026-01-01\r\n',
        contentType: 'text/csv',
      },
    ],
  );
  expect(delivery.recipient).toBe('ada@example.com');
  const [mail] = (await smtp.waitFor(before + 1)).slice(before);
  expect(mail).toMatchObject({
    from: 'iam@example.com',
    to: ['ada@example.com'],
    subject: 'Dormant accounts',
    text: 'See the attached list.',
    attachments: [{ filename: 'dormant.csv', content: 'id,last\r\nbob,2026-01-01\r\n' }],
  });
});

test('email: a message sent again under the same key has the same Message-ID, which names no one', async () => {
  const before = smtp.messages.length;
  const message = { subject: 'Welcome', text: 'Ada starts on Monday.' };
  const key = 'flow/joiner-standard/p-1001/evt-1:welcome-note:to:mia@example.com';
  // an attempt cut off after the server accepted, its retry, and another step run's message
  await channels.sendEmail('mail', 'mia@example.com', message, [], key);
  await channels.sendEmail('mail', 'mia@example.com', message, [], key);
  await channels.sendEmail('mail', 'mia@example.com', message, [], `${key}-other`);
  const [first, again, other] = (await smtp.waitFor(before + 3)).slice(before);
  expect(first?.messageId).toBe(messageIdOf(key, 'iam@example.com'));
  expect(first?.messageId).toMatch(/^<[0-9a-f]{32}\.idflow@example\.com>$/);
  expect(again?.messageId).toBe(first?.messageId);
  expect(other?.messageId).not.toBe(first?.messageId);
  expect(first?.messageId).not.toMatch(/p-1001|mia/);
});

test('Message-IDs take the sender’s domain, with or without a display name', () => {
  expect(messageIdOf('k', 'IAM Team <iam@corp.example>')).toMatch(/@corp\.example>$/);
  expect(messageIdOf('k', 'iam@corp.example')).toMatch(/@corp\.example>$/);
  expect(messageIdOf('k', 'not an address')).toMatch(/@idflow\.invalid>$/);
  expect(messageIdOf('k', 'a@b.example')).toBe(messageIdOf('k', 'c@b.example'));
  expect(messageIdOf('k1', 'a@b.example')).not.toBe(messageIdOf('k2', 'a@b.example'));
});

test('email: a wrong password is ConnectorAuthFailed; the server down is TargetUnavailable', async () => {
  const wrong = await failure(channels.sendEmail('bad-mail', 'ada@example.com', { text: 'x' }));
  expect(wrong.type).toBe('ConnectorAuthFailed');
  expect(wrong.nonRetryable).toBe(true);
  expect(wrong.message).not.toContain('smtp-wrong-0000');
  // STARTTLS against a certificate the worker does not trust: refused, not retried
  connectors.set('untrusted-mail', {
    name: 'untrusted-mail',
    type: 'email',
    config: { host: '127.0.0.1', port: smtp.port, startTls: 'required', from: 'x@example.com' },
  });
  const untrusted = await failure(
    channels.sendEmail('untrusted-mail', 'ada@example.com', { text: 'x' }),
  );
  expect(untrusted.type).toBe('ConnectorAuthFailed');
  expect(untrusted.message).toContain('config.tls.caFile');
  connectors.set('gone-mail', {
    name: 'gone-mail',
    type: 'email',
    config: { host: '127.0.0.1', port: await freePort(), startTls: 'off', from: 'x@example.com' },
  });
  const down = await failure(channels.sendEmail('gone-mail', 'ada@example.com', { text: 'x' }));
  expect(down.type).toBe('TargetUnavailable');
  expect(down.nonRetryable).toBe(false);
});

test('slack: to a person by email, to a channel; unknown people are TargetNotFound', async () => {
  const dm = await channels.sendSlack('chat', 'ada@example.com', {
    subject: 'Heads up',
    text: 'Your access changed.',
  });
  expect(dm.ref).toMatch(/^DU0ADA\//);
  await channels.sendSlack('chat', '#iam-alerts', { text: 'Leaver processed' });
  expect(slack.of('chat.postMessage').slice(-2)).toEqual([
    expect.objectContaining({ channel: 'U0ADA', text: '*Heads up*\nYour access changed.' }),
    expect.objectContaining({ channel: '#iam-alerts', text: 'Leaver processed' }),
  ]);
  const unknown = await failure(channels.sendSlack('chat', 'nobody@example.com', { text: 'x' }));
  expect(unknown.type).toBe('TargetNotFound');
  expect(await channels.check('chat', 'slack')).toEqual([
    'Slack accepts the bot token (team Example, bot user idflow)',
  ]);
  expect(await channels.check('mail', 'email')).toEqual([
    `SMTP 127.0.0.1:${smtp.port} accepts the login as idflow`,
  ]);
});

test('http: a redirect is not followed, so credentials never reach another address', async () => {
  const c = ctx({ auth: { type: 'bearer', token: { secretEnv: 'TEST_TICKETS_TOKEN' } } });
  const moved = await failure(ops.request({ method: 'POST', path: 'moved', body: { a: 1 } }, c));
  expect(moved.type).toBe('InvalidResponse');
  expect(moved.message).toContain('answered 307');
  expect(elsewhereHits).toEqual([]);
});
