/**
 * `slack`: a notification channel through Slack's Web API (`chat.postMessage`): to a person
 * (a recipient that is an email address, looked up with `users.lookupByEmail`) or to a channel
 * (`#name` or a channel id).
 */
import * as z from 'zod';
import { Limits, REMOTE_DEFAULTS, SecretEnv } from './common';
import { defineConnectorType } from './spec';

export const slack = defineConnectorType({
  type: 'slack',
  description: 'Notifications as Slack messages.',
  config: z.strictObject({
    botToken: SecretEnv,
    apiUrl: z.url().optional().describe('default https://slack.com/api/'),
    ...Limits,
  }),
  notifies: true,
  local: false,
  defaults: REMOTE_DEFAULTS,
  ops: {},
});
