/**
 * The secret values a run view must not show: every environment variable an active connector
 * references (`{ secretEnv: NAME }`) that is set in this process, and the Slack credentials.
 * Read per request, so a connector activated since start-up counts at once.
 */
import { readSecret, type Config } from '../config';
import type { Database } from '../db/client';
import { activeDefinitions } from '../db/repos/definitions';
import { Redactor, secretEnvNames } from './redact';

export async function configuredSecrets(db: Database, config?: Config): Promise<string[]> {
  const names = new Set<string>();
  for (const row of await activeDefinitions(db, 'Connector')) secretEnvNames(row.ir, names);
  const values: string[] = [];
  for (const name of names) {
    try {
      values.push(readSecret(name));
    } catch {
      // not set where this runs (it is set on the workers): nothing to look for
    }
  }
  if (config?.slack) {
    values.push(config.slack.botToken);
    if (config.slack.signingSecret) values.push(config.slack.signingSecret);
  }
  return values;
}

/** A Redactor for the secrets configured now. */
export async function redactor(db: Database, config?: Config): Promise<Redactor> {
  return new Redactor(await configuredSecrets(db, config));
}
