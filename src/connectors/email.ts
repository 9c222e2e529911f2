/**
 * `email`: a notification channel over SMTP. `notify` steps naming an email connector send one
 * message per recipient, rendered from a Template (subject, text, HTML).
 */
import * as z from 'zod';
import { Limits, REMOTE_DEFAULTS, SecretEnv, Tls } from './common';
import { defineConnectorType } from './spec';

export const email = defineConnectorType({
  type: 'email',
  description: 'Notifications by email over SMTP.',
  config: z.strictObject({
    host: z.string().min(1),
    port: z.int().min(1).max(65535),
    secure: z.boolean().optional().describe('TLS from the start (port 465)'),
    startTls: z.enum(['required', 'opportunistic', 'off']).optional(),
    auth: z.strictObject({ user: z.string().min(1), password: SecretEnv }).optional(),
    from: z.string().min(3),
    replyTo: z.string().min(3).optional(),
    tls: Tls.optional(),
    ...Limits,
  }),
  notifies: true,
  local: false,
  defaults: REMOTE_DEFAULTS,
  ops: {},
});
