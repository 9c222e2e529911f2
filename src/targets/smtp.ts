/**
 * An SMTP server on loopback for `idflow dev --with-targets` and the tests: accepts mail (with
 * optional login and STARTTLS, smtp-server's built-in self-signed certificate), parses each
 * message with mailparser and keeps it in memory; optionally writes each to a directory as .eml.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The Message-ID header, as sent. */
  messageId?: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments: Array<{ filename: string; contentType: string; content: string }>;
  raw: string;
}

export interface SmtpTarget {
  port: number;
  messages: ReceivedMail[];
  /** Resolves with the first `count` messages to arrive (now or later). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

function addresses(parsed: ParsedMail['to']): string[] {
  const list = Array.isArray(parsed) ? parsed : parsed ? [parsed] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);
}

export async function startSmtpTarget(options: {
  port?: number;
  auth?: { user: string; password: string };
  startTls?: boolean;
  saveDir?: string;
}): Promise<SmtpTarget> {
  const messages: ReceivedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: [
      ...(options.startTls ? [] : ['STARTTLS']),
      ...(options.auth ? [] : ['AUTH']),
    ],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 1_000,
    onAuth(auth, _session, done) {
      if (
        options.auth &&
        auth.username === options.auth.user &&
        auth.password === options.auth.password
      )
        done(null, { user: auth.username });
      else done(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((mail) => {
            const received: ReceivedMail = {
              ...(mail.messageId ? { messageId: mail.messageId } : {}),
              from: addresses(mail.from)[0] ?? '',
              to: addresses(mail.to),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              ...(typeof mail.html === 'string' ? { html: mail.html } : {}),
              attachments: mail.attachments.map((a) => ({
                filename: a.filename ?? '',
                contentType: a.contentType,
                content: a.content.toString('utf8'),
              })),
              raw,
            };
            messages.push(received);
            if (options.saveDir)
              writeFileSync(join(options.saveDir, `${Date.now()}-${messages.length}.eml`), raw);
            for (const wake of waiters.splice(0)) wake();
            done();
          })
          .catch((err: unknown) => done(err as Error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    port,
    messages,
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `expected ${count} messages, ${messages.length} arrived within ${timeoutMs} ms`,
          );
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
      return messages.slice(0, count);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
