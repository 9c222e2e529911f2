/**
 * `idflow webhooks sign`: the headers it prints verify with the standard's own library, the
 * curl command it prints survives the shell unchanged, and a bad secret is named by its
 * variable, never shown.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { curlCommand, shellQuote, signedHeaders } from '../../src/cli/commands/webhooks';
import { testSecret } from '../support/webhooks';

describe('signedHeaders', () => {
  test('the standardwebhooks library verifies what it signs', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
        fc.uint8Array({ maxLength: 200 }),
        (id, body) => {
          const secret = testSecret();
          const now = String(Math.floor(Date.now() / 1000));
          const headers = Object.fromEntries(signedHeaders(secret, 'S', id, now, body));
          expect(() =>
            new Webhook(secret).verify(Buffer.from(body), headers, { jsonParse: false }),
          ).not.toThrow();
        },
      ),
      { numRuns: 100 },
    );
  });

  test('names what is wrong, never the secret', () => {
    const short = `whsec_${Buffer.alloc(10, 1).toString('base64')}`;
    expect(() => signedHeaders(short, 'HR_SECRET', 'm', '1', Buffer.alloc(0))).toThrow(
      'HR_SECRET holds 10 bytes; a webhook secret holds 24 to 64 random bytes',
    );
    const good = testSecret();
    expect(() => signedHeaders(good, 'S', 'a b', '1', Buffer.alloc(0))).toThrow(/--id/);
    expect(() => signedHeaders(good, 'S', 'a', '-1', Buffer.alloc(0))).toThrow(/--timestamp/);
  });
});

describe('curlCommand', () => {
  test('a shell reads each quoted argument back exactly', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 30 }).filter((t) => !t.includes('\0')),
        (text) => {
          const echoed = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(text)}`]);
          expect(echoed.toString()).toBe(text);
        },
      ),
      { numRuns: 50 },
    );
  });

  test('sends the file unchanged with the three headers', () => {
    const command = curlCommand(
      'http://127.0.0.1:8080/v1/webhooks/hr-webhooks',
      [
        ['webhook-id', "msg_it's"],
        ['webhook-timestamp', '1700000000'],
        ['webhook-signature', 'v1,abc='],
      ],
      'event.json',
    );
    expect(command).toBe(
      [
        "curl -sS -w '\\n' -X POST 'http://127.0.0.1:8080/v1/webhooks/hr-webhooks'",
        "-H 'Content-Type: application/json'",
        "-H 'webhook-id: msg_it'\\''s'",
        "-H 'webhook-timestamp: 1700000000'",
        "-H 'webhook-signature: v1,abc='",
        "--data-binary '@event.json'",
      ].join(' \\\n  '),
    );
  });
});
