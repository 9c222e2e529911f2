/**
 * A local stand-in for Slack's Web API (Slack cannot be reached from here): the methods idflow
 * calls, with Slack's request and response shapes — bearer token, form-encoded arguments,
 * `{ ok, error }` answers — recording every call for tests to read. Also signs interaction
 * payloads the way Slack does.
 */
import { createServer, type Server } from 'node:http';
import { slackSignature } from '../../src/gateway/slack-signature';

export interface SlackCall {
  method: string;
  args: Record<string, string>;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  private server?: Server;
  private ts = 1_700_000_000;
  url = '';

  constructor(
    readonly token: string,
    /** Slack users by email: `{ 'mgr@example.com': 'U0MGR' }`. */
    readonly users: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const args: Record<string, string> = {};
        const type = req.headers['content-type'] ?? '';
        if (type.includes('application/json')) {
          for (const [k, v] of Object.entries(JSON.parse(body || '{}') as Record<string, unknown>))
            args[k] = typeof v === 'string' ? v : JSON.stringify(v);
        } else {
          for (const [k, v] of new URLSearchParams(body)) args[k] = v;
        }
        const reply = (payload: Record<string, unknown>) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(payload));
        };
        if (req.headers.authorization !== `Bearer ${this.token}`)
          return reply({ ok: false, error: 'invalid_auth' });
        this.calls.push({ method, args });
        reply(this.answer(method, args));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server?.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/`;
  }

  private answer(method: string, args: Record<string, string>): Record<string, unknown> {
    switch (method) {
      case 'users.lookupByEmail': {
        const id = this.users[(args.email ?? '').toLowerCase()];
        return id
          ? { ok: true, user: { id, profile: { email: args.email } } }
          : { ok: false, error: 'users_not_found' };
      }
      case 'users.info': {
        const email = Object.entries(this.users).find(([, id]) => id === args.user)?.[0];
        return email
          ? { ok: true, user: { id: args.user, profile: { email } } }
          : { ok: false, error: 'user_not_found' };
      }
      case 'chat.postMessage': {
        const ts = `${++this.ts}.000100`;
        return {
          ok: true,
          channel: `D${args.channel ?? ''}`,
          ts,
          message: { text: args.text, ts },
        };
      }
      case 'auth.test':
        return { ok: true, team: 'Example', user: 'idflow', team_id: 'T0001', user_id: 'U0BOT' };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** The calls of one method, with `blocks` parsed. */
  of(method: string): Array<Record<string, unknown>> {
    return this.calls
      .filter((c) => c.method === method)
      .map((c) => ({
        ...c.args,
        ...(c.args.blocks ? { blocks: JSON.parse(c.args.blocks) as unknown } : {}),
      }));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

/** A block_actions interaction as Slack posts it: form-encoded `payload`, signed. */
export function signedInteraction(
  secret: string,
  input: {
    user: string;
    action: 'idflow.approve' | 'idflow.reject';
    value: string;
    timestamp?: number;
  },
): { body: string; headers: Record<string, string> } {
  const payload = {
    type: 'block_actions',
    user: { id: input.user, username: input.user.toLowerCase() },
    actions: [
      { action_id: input.action, block_id: 'idflow.decision', value: input.value, type: 'button' },
    ],
    container: { type: 'message' },
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(secret, timestamp, body),
    },
  };
}
