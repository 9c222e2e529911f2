/**
 * The local test targets `idflow dev --with-targets` starts for the reference definitions: an
 * OpenLDAP directory (slapd), a SCIM 2.0 application and an SMTP server, on the loopback ports
 * definitions/connectors/ names. Secrets the reference connectors read are set to the targets'
 * values when the environment does not give them. With `keepData` (idflow dev) the directory,
 * the SCIM users and groups and the mail stay under the data directory between starts; with
 * `supervise`, slapd is restarted when it exits.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logging';
import { supervise, type Supervisor } from '../supervise';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from './slapd';
import { startScimTarget, type ScimTarget } from './scim';
import { startSmtpTarget, type SmtpTarget } from './smtp';

/** The ports definitions/connectors/ point at. */
export const TARGET_PORTS = { ldap: 3389, scim: 8090, smtp: 2525 } as const;
export const SCIM_DEV_TOKEN = 'idflow-dev-scim-token';

export interface TargetPorts {
  ldap: number;
  scim: number;
  smtp: number;
}

/** Where the targets keep their data under the data directory (what `idflow dev --reset` empties). */
export function targetPaths(dataDir: string): { slapd: string; scimStore: string; mail: string } {
  return {
    slapd: join(dataDir, 'slapd'),
    scimStore: join(dataDir, 'scim', 'store.json'),
    mail: join(dataDir, 'mail'),
  };
}

export interface TargetOptions {
  /** Ports other than TARGET_PORTS (the connector definitions must point at them too). */
  ports?: Partial<TargetPorts>;
  /** Keep the directory and the SCIM users and groups between starts (seed only new ones). */
  keepData?: boolean;
  /** Restart slapd when it exits; `onGiveUp` when it keeps exiting. */
  supervise?: { log: Pick<Logger, 'info' | 'warn' | 'error'>; onGiveUp(error: Error): void };
}

export interface Targets {
  /** The running slapd (after a restart, the new one). */
  readonly slapd?: SlapdTarget;
  scim: ScimTarget;
  smtp: SmtpTarget;
  /** What to print: one line per target. */
  lines: string[];
  /** Stops restarting slapd (before an orderly shutdown). */
  release(): void;
  stop(): Promise<void>;
}

export async function startTargets(
  dataDir: string,
  warn: (message: string) => void,
  options: TargetOptions = {},
): Promise<Targets> {
  process.env.LDAP_BIND_PASSWORD ??= LDAP_TARGET.bindPassword;
  process.env.CRM_SCIM_TOKEN ??= SCIM_DEV_TOKEN;
  const ports: TargetPorts = { ...TARGET_PORTS, ...options.ports };
  const paths = targetPaths(dataDir);
  const lines: string[] = [];
  let slapd: Supervisor<SlapdTarget> | SlapdTarget | undefined;
  try {
    mkdirSync(paths.slapd, { recursive: true });
    const start = () =>
      startSlapd({ port: ports.ldap, dir: paths.slapd, keepData: options.keepData ?? false });
    const first = await start();
    slapd = options.supervise
      ? supervise(first, { name: 'slapd (the LDAP target)', start, ...options.supervise })
      : first;
    lines.push(
      `  LDAP:        ${first.url} (${LDAP_TARGET.baseDn}${first.seeded ? ', seeded' : ', data kept'}; ldapsearch -x -H ${first.url} -D ${LDAP_TARGET.bindDn} -w ${LDAP_TARGET.bindPassword} -b ou=people,${LDAP_TARGET.baseDn})`,
    );
  } catch (err) {
    warn(`the LDAP target did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  let scim: ScimTarget | undefined;
  let smtp: SmtpTarget;
  try {
    scim = await startScimTarget({
      port: ports.scim,
      token: process.env.CRM_SCIM_TOKEN,
      groups: ['staff', 'managers', 'sales', 'sales-managers'],
      ...(options.keepData ? { storeFile: paths.scimStore } : {}),
    });
    lines.push(
      `  SCIM:        ${scim.url} (bearer ${process.env.CRM_SCIM_TOKEN}${scim.storeFile ? `; users and groups in ${scim.storeFile}` : ''})`,
    );
    mkdirSync(paths.mail, { recursive: true });
    smtp = await startSmtpTarget({ port: ports.smtp, saveDir: paths.mail });
    lines.push(`  SMTP:        127.0.0.1:${smtp.port} (messages in ${paths.mail})`);
  } catch (err) {
    await Promise.all([slapd?.stop(), scim?.stop()]);
    throw err;
  }
  const running = slapd;
  return {
    get slapd() {
      return running && 'current' in running ? running.current : running;
    },
    scim,
    smtp,
    lines,
    release() {
      if (running && 'release' in running) running.release();
    },
    async stop() {
      await Promise.all([running?.stop(), scim.stop(), smtp.stop()]);
    },
  };
}
