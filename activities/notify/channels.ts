/**
 * Delivery through notification connectors: `email` (nodemailer over SMTP, one message per
 * recipient, optional CSV attachments) and `slack` (`chat.postMessage` to a person found by
 * email, or to a channel). Transports are kept per connector configuration; credentials come
 * from the worker's environment and are never part of a message or an error.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, WebClient } from '@slack/web-api';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type Transporter } from 'nodemailer';
import type * as z from 'zod';
import type { ActiveConnectors } from '../../src/connectors/active';
import type { email } from '../../src/connectors/email';
import type { slack } from '../../src/connectors/slack';
import type { RenderedMessage } from '../../src/notify/render';
import {
  certificateProblem,
  isNetworkError,
  secretOf,
  tlsOptions,
  withinLimits,
} from '../connectors/support';
import { connectorFailure, errorName } from '../errors';

type EmailConfig = z.infer<typeof email.config>;
type SlackConfig = z.infer<typeof slack.config>;

export interface Attachment {
  filename: string;
  content: string;
  contentType: string;
}

/** Where a message went: the SMTP message id, or the Slack channel and timestamp. */
export type Delivery = { recipient: string; ref: string };

const transports = new Map<string, Transporter>();
const slackClients = new Map<string, WebClient>();

function cacheKey(name: string, config: unknown, secret: string): string {
  return createHash('sha256')
    .update(JSON.stringify([name, config, secret]))
    .digest('hex');
}

/**
 * What may be said of an SMTP failure: the reply code and enhanced status ("550 5.1.1"), or
 * nodemailer's error code. Never the reply's text, which quotes addresses ("<ada@…>: Recipient
 * address rejected") and sometimes the message.
 */
function smtpReply(err: unknown): string {
  const e = err as { code?: unknown; responseCode?: unknown; response?: unknown };
  const parts: string[] = [];
  if (typeof e.responseCode === 'number') parts.push(String(e.responseCode));
  const enhanced =
    typeof e.response === 'string' ? /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(e.response) : null;
  if (enhanced?.[1]) parts.push(enhanced[1]);
  if (typeof e.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(e.code)) parts.push(e.code);
  return parts.length ? parts.join(' ') : errorName(err);
}

function smtpFailure(where: string, err: unknown, cfg: EmailConfig): never {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const text = e.response ?? e.message ?? '';
  const reply = smtpReply(err);
  const untrusted = certificateProblem(err);
  if (untrusted || /certificate/i.test(text))
    throw connectorFailure(
      'ConnectorAuthFailed',
      `${where}: the TLS certificate of ${cfg.host} is not trusted: ${untrusted ?? reply}; give its CA in config.tls.caFile`,
    );
  if (e.code === 'EAUTH' || e.responseCode === 535 || e.responseCode === 534)
    throw connectorFailure(
      'ConnectorAuthFailed',
      `${where}: the SMTP server refused the login as ${cfg.auth?.user ?? '(none)'} (${reply})`,
    );
  if (
    e.code === 'ECONNECTION' ||
    e.code === 'ETIMEDOUT' ||
    e.code === 'ESOCKET' ||
    isNetworkError(err)
  )
    throw connectorFailure(
      'TargetUnavailable',
      `${where}: cannot reach ${cfg.host}:${cfg.port} (${reply})`,
    );
  if (e.code === 'ETLS')
    throw connectorFailure(
      'ConnectorAuthFailed',
      `${where}: TLS with ${cfg.host} failed (${reply})`,
    );
  if (e.responseCode && e.responseCode >= 400 && e.responseCode < 500)
    throw connectorFailure('TargetUnavailable', `${where}: the SMTP server deferred it (${reply})`);
  if (e.responseCode && e.responseCode >= 500)
    throw connectorFailure(
      'InvalidRequest',
      `${where}: the SMTP server rejected it (${reply}${e.code === 'EENVELOPE' ? ', a recipient or the sender' : ''})`,
    );
  throw connectorFailure('TargetUnavailable', `${where}: sending failed (${reply})`);
}

/**
 * A Message-ID of its own for each idempotency key: a hash, so no person's id or address
 * appears in it, at the sender's domain (RFC 5322 `<id-left@id-right>`).
 */
export function messageIdOf(key: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'idflow.invalid';
  const left = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `<${left}.idflow@${domain}>`;
}

export class Channels {
  constructor(private readonly connectors: ActiveConnectors) {}

  private async config(name: string, type: 'email' | 'slack'): Promise<Record<string, unknown>> {
    const connector = await this.connectors.get(name);
    if (!connector) {
      throw connectorFailure(
        'ConnectorNotConfigured',
        `channel '${name}' is not active; activate a Connector definition with that name`,
      );
    }
    if (connector.type !== type) {
      throw connectorFailure(
        'ConnectorNotConfigured',
        `channel '${name}' is of type ${connector.type} now, not ${type}`,
      );
    }
    return connector.config;
  }

  private transport(name: string, cfg: EmailConfig): Transporter {
    const password = cfg.auth ? secretOf(name, 'auth.password', cfg.auth.password) : '';
    const key = cacheKey(name, cfg, password);
    let transport = transports.get(key);
    if (!transport) {
      transport = nodemailer.createTransport({
        host: cfg.host,
        port: cfg.port,
        secure: cfg.secure ?? false,
        // a login is never sent in clear: with auth, STARTTLS is required unless said off
        requireTLS: cfg.startTls === 'required' || (!!cfg.auth && cfg.startTls === undefined),
        ignoreTLS: cfg.startTls === 'off',
        ...(cfg.auth ? { auth: { user: cfg.auth.user, pass: password } } : {}),
        tls: tlsOptions(cfg.tls),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
        pool: true,
        maxConnections: cfg.maxConcurrency ?? 5,
      });
      transports.set(key, transport);
    }
    return transport;
  }

  /**
   * Sends one message to `recipient`. `key` (the step run's idempotency key and the recipient)
   * gives the message its Message-ID: a retry that sends again after an attempt cut off
   * between the server's acceptance and idflow's record of it sends the same message, which
   * mail systems and readers recognise as one.
   */
  async sendEmail(
    name: string,
    recipient: string,
    message: RenderedMessage,
    attachments: Attachment[] = [],
    key?: string,
  ): Promise<Delivery> {
    const cfg = (await this.config(name, 'email')) as unknown as EmailConfig;
    const where = `channel '${name}'`;
    return withinLimits(name, cfg, async () => {
      try {
        const info = (await this.transport(name, cfg).sendMail({
          ...(key ? { messageId: messageIdOf(key, cfg.from) } : {}),
          from: cfg.from,
          ...(cfg.replyTo ? { replyTo: cfg.replyTo } : {}),
          to: recipient,
          subject: message.subject ?? '(no subject)',
          text: message.text,
          ...(message.html ? { html: message.html } : {}),
          attachments: attachments.map((a) => ({ ...a })),
        })) as { messageId: string };
        return { recipient, ref: info.messageId };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        return smtpFailure(where, err, cfg);
      }
    });
  }

  private slackClient(name: string, cfg: SlackConfig): WebClient {
    const token = secretOf(name, 'botToken', cfg.botToken);
    const key = cacheKey(name, cfg, token);
    let client = slackClients.get(key);
    if (!client) {
      client = new WebClient(token, {
        slackApiUrl: cfg.apiUrl ?? 'https://slack.com/api/',
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: 30_000,
      });
      slackClients.set(key, client);
    }
    return client;
  }

  /** To a person by email (a direct message), or to a channel: `#name` or an id. */
  async sendSlack(name: string, recipient: string, message: RenderedMessage): Promise<Delivery> {
    const cfg = (await this.config(name, 'slack')) as unknown as SlackConfig;
    const where = `channel '${name}'`;
    return withinLimits(name, cfg, async () => {
      const client = this.slackClient(name, cfg);
      try {
        let channel = recipient;
        if (recipient.includes('@')) {
          const found = await client.users.lookupByEmail({ email: recipient });
          channel = found.user?.id ?? '';
        }
        const text = message.subject ? `*${message.subject}*\n${message.text}` : message.text;
        const res = await client.chat.postMessage({ channel, text, unfurl_links: false });
        return { recipient, ref: `${res.channel}/${res.ts}` };
      } catch (err) {
        const e = err as { code?: string; data?: { error?: string }; retryAfter?: number };
        const error = e.data?.error ?? '';
        if (e.code === ErrorCode.RateLimitedError)
          throw ApplicationFailure.create({
            type: 'RateLimited',
            message: `${where}: Slack asks to slow down`,
            ...(e.retryAfter ? { nextRetryDelay: e.retryAfter * 1000 } : {}),
          });
        if (
          [
            'invalid_auth',
            'not_authed',
            'account_inactive',
            'token_revoked',
            'missing_scope',
          ].includes(error)
        )
          throw connectorFailure(
            'ConnectorAuthFailed',
            `${where}: Slack refused the bot token (${error})`,
          );
        if (['users_not_found', 'channel_not_found', 'user_not_found'].includes(error))
          throw connectorFailure(
            'TargetNotFound',
            `${where}: Slack has no ${recipient.includes('@') ? 'user with the recipient address' : `channel ${recipient}`} (${error})`,
          );
        if (e.code === ErrorCode.PlatformError)
          throw connectorFailure(
            'InvalidRequest',
            `${where}: Slack refused the message (${error})`,
          );
        throw connectorFailure(
          'TargetUnavailable',
          `${where}: cannot reach Slack (${e.code ?? 'request failed'})`,
        );
      }
    });
  }

  /** Checks a channel's connectivity and credentials: `connectors test`. */
  async check(name: string, type: 'email' | 'slack'): Promise<string[]> {
    if (type === 'email') {
      const cfg = (await this.config(name, 'email')) as unknown as EmailConfig;
      try {
        await this.transport(name, cfg).verify();
      } catch (err) {
        smtpFailure(`channel '${name}'`, err, cfg);
      }
      return [
        `SMTP ${cfg.host}:${cfg.port} accepts ${cfg.auth ? `the login as ${cfg.auth.user}` : 'connections'}`,
      ];
    }
    const cfg = (await this.config(name, 'slack')) as unknown as SlackConfig;
    const res = await this.slackClient(name, cfg)
      .auth.test()
      .catch((err: unknown) => {
        const e = err as { data?: { error?: string } };
        throw connectorFailure(
          e.data?.error ? 'ConnectorAuthFailed' : 'TargetUnavailable',
          `channel '${name}': ${e.data?.error ?? errorName(err)}`,
        );
      });
    return [`Slack accepts the bot token (team ${res.team ?? '?'}, bot user ${res.user ?? '?'})`];
  }
}

/** Closes pooled SMTP connections (worker shutdown, tests). */
export function closeChannels(): void {
  for (const t of transports.values()) t.close();
  transports.clear();
  slackClients.clear();
}
