/**
 * The reference definitions against a test's own targets: slapd, the SCIM service and SMTP on
 * free ports with throwaway data, and a copy of definitions/ whose connectors point at them,
 * plus the test's own documents. Tests that run the reference joiner, mover and leaver start
 * from here.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startTargets, type Targets } from '../../src/targets';
import { ROOT } from './harness';
import { freePort } from './ports';

export interface ReferenceWorld {
  targets: Targets;
  /** The copied definitions directory, relative to the repository root (for the Harness). */
  definitions: string;
  dataDir: string;
}

/**
 * Starts the targets and writes the definitions; `extra` documents (YAML text) go to
 * `<definitions>/it/<name>.yaml`; with `slackApiUrl` the slack connector posts there (a
 * FakeSlack). The caller stops `targets`.
 */
export async function referenceWorld(
  name: string,
  extra: Record<string, string> = {},
  options: { slackApiUrl?: string } = {},
): Promise<ReferenceWorld> {
  const ports = { ldap: await freePort(), scim: await freePort(), smtp: await freePort() };
  const dataDir = join(ROOT, '.idflow', 'test', `${name}-${randomBytes(4).toString('hex')}`);
  const targets = await startTargets(
    join(dataDir, 'targets'),
    (m) => {
      throw new Error(m);
    },
    { ports },
  );
  const defs = join(dataDir, 'definitions');
  cpSync(join(ROOT, 'definitions'), defs, { recursive: true });
  for (const file of readdirSync(join(defs, 'connectors'))) {
    const path = join(defs, 'connectors', file);
    writeFileSync(
      path,
      readFileSync(path, 'utf8')
        .replace('127.0.0.1:3389', `127.0.0.1:${ports.ldap}`)
        .replace('127.0.0.1:8090', `127.0.0.1:${ports.scim}`)
        .replace('port: 2525', `port: ${ports.smtp}`)
        .replace(
          /^( {2}botToken: .*)$/m,
          options.slackApiUrl ? `$1\n  apiUrl: ${options.slackApiUrl}` : '$1',
        ),
    );
  }
  mkdirSync(join(defs, 'it'));
  for (const [file, text] of Object.entries(extra))
    writeFileSync(join(defs, 'it', `${file}.yaml`), text);
  return { targets, definitions: relative(ROOT, defs), dataDir };
}
