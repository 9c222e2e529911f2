/**
 * `slack`: a notification channel through Slack's Web API (`chat.postMessage`): to a person
 * (a recipient that is an email address, looked up with `users.lookupByEmail`) or to a channel
 * (`#name` or a channel id).
 */
import * as z from 'zod';
import { Limits, SecretEnv } from './common';
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
  defaults: {
    timeoutMs: 15_000,
    retry: {
      maximumAttempts: 10,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 60_000,
    },
  },
  ops: {},
});
