/**
 * `idflow webhooks`: tools for an operator setting up a source that signs its deliveries
 * (docs/webhooks.md). `secret` makes a new `whsec_` secret to share with the sender; `sign`
 * signs a file's bytes like a Standard Webhooks sender, printing the three headers or a
 * ready-to-run curl command, so a source can be tried before the real sender is wired.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readSecret } from '../../config';
import {
  MAX_SECRET_BYTES,
  MIN_SECRET_BYTES,
  generateWebhookSecret,
  parseWebhookSecret,
} from '../../sources/webhook-secrets';
import { WEBHOOK_ID, signWebhook } from '../../sources/webhook-signature';

/** The three headers of a delivery of `body`, signed with the secret held in `secretText`. */
export function signedHeaders(
  secretText: string,
  variable: string,
  id: string,
  timestamp: string,
  body: Uint8Array,
): Array<[string, string]> {
  const secret = parseWebhookSecret(secretText);
  if (!secret.ok) throw new Error(`${variable} ${secret.problem}`);
  if (!WEBHOOK_ID.test(id))
    throw new Error('--id must be 1 to 256 printable ASCII characters without spaces');
  if (!/^[0-9]{1,12}$/.test(timestamp))
    throw new Error('--timestamp must be unix seconds, like 1767225600');
  return [
    ['webhook-id', id],
    ['webhook-timestamp', timestamp],
    ['webhook-signature', signWebhook(secret.key, id, timestamp, body)],
  ];
}

/** `text` quoted for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that sends `file` (its bytes unchanged) to `url` with the headers. */
export function curlCommand(url: string, headers: Array<[string, string]>, file: string): string {
  return [
    `curl -sS -w '\\n' -X POST ${shellQuote(url)}`,
    `-H 'Content-Type: application/json'`,
    ...headers.map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`),
    `--data-binary ${shellQuote(`@${file}`)}`,
  ].join(' \\\n  ');
}

export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('signed webhook deliveries (Standard Webhooks): secrets and test signatures');

  webhooks
    .command('secret')
    .description(
      'print a new webhook secret (whsec_ + base64 of random bytes) to share with a sender',
    )
    .option('--bytes <n>', `random bytes, ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}`, '32')
    .action((options: { bytes: string }) => {
      const bytes = Number(options.bytes);
      if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES)
        throw new Error(
          `--bytes must be a whole number from ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}`,
        );
      process.stdout.write(`${generateWebhookSecret(bytes)}\n`);
    });

  webhooks
    .command('sign')
    .description(
      "sign a file's bytes as a Standard Webhooks sender would; print the headers, or a curl command with --url",
    )
    .argument('<file>', 'the body to send, e.g. an event as JSON')
    .requiredOption('--secret-env <name>', 'the environment variable holding the secret')
    .option('--id <id>', 'the webhook-id (default: a new msg_… id)')
    .option('--timestamp <seconds>', 'the webhook-timestamp, unix seconds (default: now)')
    .option(
      '--url <url>',
      'print a curl command for this URL, like http://127.0.0.1:8080/v1/webhooks/hr-webhooks',
    )
    .action(
      (
        file: string,
        options: { secretEnv: string; id?: string; timestamp?: string; url?: string },
      ) => {
        const body = readFileSync(file);
        const headers = signedHeaders(
          readSecret(options.secretEnv),
          options.secretEnv,
          options.id ?? `msg_${randomBytes(18).toString('base64url')}`,
          options.timestamp ?? String(Math.floor(Date.now() / 1000)),
          body,
        );
        process.stdout.write(
          options.url
            ? `${curlCommand(options.url, headers, file)}\n`
            : headers.map(([name, value]) => `${name}: ${value}\n`).join(''),
        );
      },
    );
}
