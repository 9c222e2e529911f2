/**
 * The local test targets `idflow dev --with-targets` starts for the reference definitions: an
 * OpenLDAP directory (slapd), a SCIM 2.0 application and an SMTP server, on the fixed loopback
 * ports definitions/connectors/ names. Secrets the reference connectors read are set to the
 * targets' values when the environment does not give them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from './slapd';
import { startScimTarget, type ScimTarget } from './scim';
import { startSmtpTarget, type SmtpTarget } from './smtp';

export const TARGET_PORTS = { ldap: 3389, scim: 8090, smtp: 2525 } as const;
export const SCIM_DEV_TOKEN = 'idflow-dev-scim-token';

export interface Targets {
  slapd?: SlapdTarget;
  scim: ScimTarget;
  smtp: SmtpTarget;
  /** What to print: one line per target. */
  lines: string[];
  stop(): Promise<void>;
}

export async function startTargets(
  dataDir: string,
  warn: (message: string) => void,
): Promise<Targets> {
  process.env.LDAP_BIND_PASSWORD ??= LDAP_TARGET.bindPassword;
  process.env.CRM_SCIM_TOKEN ??= SCIM_DEV_TOKEN;
  const lines: string[] = [];
  let slapd: SlapdTarget | undefined;
  try {
    mkdirSync(join(dataDir, 'slapd'), { recursive: true });
    slapd = await startSlapd({ port: TARGET_PORTS.ldap, dir: join(dataDir, 'slapd') });
    lines.push(
      `  LDAP:        ${slapd.url} (${LDAP_TARGET.baseDn}; ldapsearch -x -H ${slapd.url} -D ${LDAP_TARGET.bindDn} -w ${LDAP_TARGET.bindPassword} -b ou=people,${LDAP_TARGET.baseDn})`,
    );
  } catch (err) {
    warn(`the LDAP target did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  let scim: ScimTarget | undefined;
  let smtp: SmtpTarget;
  try {
    scim = await startScimTarget({
      port: TARGET_PORTS.scim,
      token: process.env.CRM_SCIM_TOKEN,
      groups: ['staff', 'managers'],
    });
    lines.push(`  SCIM:        ${scim.url} (bearer ${process.env.CRM_SCIM_TOKEN})`);
    const mailDir = join(dataDir, 'mail');
    mkdirSync(mailDir, { recursive: true });
    smtp = await startSmtpTarget({ port: TARGET_PORTS.smtp, saveDir: mailDir });
    lines.push(`  SMTP:        127.0.0.1:${smtp.port} (messages in ${mailDir})`);
  } catch (err) {
    await Promise.all([slapd?.stop(), scim?.stop()]);
    throw err;
  }
  return {
    ...(slapd ? { slapd } : {}),
    scim,
    smtp,
    lines,
    async stop() {
      await Promise.all([slapd?.stop(), scim.stop(), smtp.stop()]);
    },
  };
}
