/**
 * Screenshots of the Temporal Web UI for docs/operations.md: starts `idflow dev --with-targets`
 * on free ports with its own data directory (the reference definitions plus the access request
 * of test/fixtures/web-ui), sends a few events — joiners, an access request that waits on the
 * manager's approval, an account takeover that parks — then opens the Web UI's workflow list
 * with each saved query, and the detail page of the waiting run, in headless Chromium, and
 * writes PNGs to docs/images/.
 *
 * Run with `npm run docs:screenshots`. Needs Chromium (`apt-get install chromium`; CHROMIUM
 * names another binary) and the Temporal CLI `idflow dev` uses. Only for the docs: no test or
 * CI step runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import puppeteer, { type Page } from 'puppeteer-core';
import { freePort } from '../src/ports';

const ROOT = join(__dirname, '..');
const IMAGES = join(ROOT, 'docs', 'images');
const VIEWPORT = { width: 1280, height: 800 };
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** The list's columns in the screenshots: what an operator scans runs by. */
const COLUMNS = [
  'Status',
  'Workflow ID',
  'IdflowSubject',
  'IdflowStatus',
  'IdflowPendingApprovers',
];

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Starts `idflow dev --with-targets` and resolves once it says it is running. */
async function startDev(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'idflow.js'), 'dev', '--with-targets'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('idflow is running.')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`idflow dev exited (${code}) before it was running:\n${output}`)),
    );
  });
  return child;
}

function example(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'examples', 'events', name), 'utf8')) as Record<
    string,
    unknown
  >;
}

async function main(): Promise<void> {
  const [temporalPort, uiPort, gatewayPort, ldapPort, scimPort, smtpPort] = (await Promise.all(
    Array.from({ length: 6 }, freePort),
  )) as [number, number, number, number, number, number];
  const work = mkdtempSync(join(tmpdir(), 'idflow-screenshots-'));
  const definitions = join(work, 'definitions');
  cpSync(join(ROOT, 'definitions'), definitions, { recursive: true });
  // the reference connectors name the targets' default ports: point the copies at these
  const ports: Record<string, number> = { '3389': ldapPort, '8090': scimPort, '2525': smtpPort };
  for (const file of ['corp-directory.yaml', 'crm.yaml', 'mail.yaml']) {
    const path = join(definitions, 'connectors', file);
    const text = readFileSync(path, 'utf8').replace(
      /(127\.0\.0\.1:|port: )(3389|8090|2525)\b/g,
      (_, before: string, port: string) => `${before}${ports[port] ?? port}`,
    );
    writeFileSync(path, text);
  }
  cpSync(
    join(ROOT, 'test', 'fixtures', 'web-ui', 'access-request.yaml'),
    join(definitions, 'flows', 'access-request.yaml'),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    IDFLOW_DATA_DIR: join(work, 'data'),
    IDFLOW_DEFINITIONS: definitions,
    IDFLOW_PORT: String(gatewayPort),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_PORT: String(uiPort),
    IDFLOW_TARGET_LDAP_PORT: String(ldapPort),
    IDFLOW_TARGET_SCIM_PORT: String(scimPort),
    IDFLOW_TARGET_SMTP_PORT: String(smtpPort),
    IDFLOW_LOG_LEVEL: 'warn',
    ...(process.env.TEMPORAL_CLI ? { TEMPORAL_CLI: process.env.TEMPORAL_CLI } : {}),
  };
  console.log(`starting idflow dev (Web UI on port ${uiPort}) in ${work}`);
  const dev = await startDev(env);
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
  const client = new Client({ connection });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    defaultViewport: VIEWPORT,
  });
  try {
    const token = readFileSync(join(work, 'data', 'dev-token'), 'utf8').trim();
    const post = async (event: Record<string, unknown>) => {
      const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
      if (res.status !== 202) throw new Error(`event ${String(event.id)}: ${res.status}`);
    };
    const count = async (query: string) => (await client.workflow.count(query)).count;

    // joiners: the manager, Ada, and Alan (whose account will look taken over)
    await post(example('joiner-manager.json'));
    await post(example('joiner.json'));
    const joiner = example('joiner.json');
    const subject = joiner.subject as Record<string, unknown>;
    await post({
      ...joiner,
      id: 'wd-evt-1002',
      subject: {
        ...subject,
        id: 'p-1002',
        employeeId: 'E1002',
        givenName: 'Alan',
        familyName: 'Turing',
        email: 'alan.turing@example.com',
      },
    });
    await until('three joiners', async () =>
      (await count(`IdflowFlow = 'joiner-standard' AND IdflowStatus = 'Completed'`)) >= 3
        ? true
        : undefined,
    );
    // Ada asks for access: the run waits on her manager's approval
    await post({
      source: 'service-desk',
      id: 'sd-req-4711',
      type: 'access.requested',
      occurredAt: new Date().toISOString(),
      subject: { id: 'p-1001', managerId: 'p-1000' },
      attributes: { entitlement: 'finance-reports' },
    });
    // Alan's account looks taken over: without Slack the alert branch parks
    await post({
      ...example('account-takeover.json'),
      id: 'siem-alert-7002',
      subject: { id: 'p-1002' },
    });
    await until('a run waiting on p-1000', async () =>
      (await count(`IdflowPendingApprovers = 'p-1000'`)) >= 1 ? true : undefined,
    );
    await until('a parked run', async () =>
      (await count(`IdflowStatus = 'Parked'`)) >= 1 ? true : undefined,
    );

    const ui = `http://127.0.0.1:${uiPort}/namespaces/default`;
    const page = await browser.newPage();
    const shots: Array<[string, string]> = [
      ['webui-parked.png', `IdflowStatus = 'Parked'`],
      ['webui-waiting-on-me.png', `IdflowPendingApprovers = 'p-1000'`],
      ['webui-person.png', `IdflowSubject = 'p-1001'`],
      ['webui-over-budget.png', `IdflowOverBudget = true`],
    ];
    mkdirSync(IMAGES, { recursive: true });
    // the list's columns, as an operator would configure them (Web UI: the table's gear button):
    // idflow's search attributes next to the workflow id
    await page.goto(`${ui}/workflows`, { waitUntil: 'domcontentloaded' });
    const columns = { default: COLUMNS.map((label, i) => ({ label, pinned: i < 2 })) };
    await page.evaluate(
      `localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(JSON.stringify(columns))})`,
    );
    for (const [file, query] of shots) {
      await page.goto(`${ui}/workflows?query=${encodeURIComponent(query)}`, {
        waitUntil: 'domcontentloaded',
      });
      await settle(page);
      await page.screenshot({ path: join(IMAGES, file) });
      console.log(`docs/images/${file}: ${query}`);
    }
    // the waiting run: its summary, details and current details (the User Metadata tab), then
    // its event history with each step's title
    const waiting = `flow/access-request/p-1001/sd-req-4711`;
    await page.goto(`${ui}/workflows/${encodeURIComponent(waiting)}`, {
      waitUntil: 'domcontentloaded',
    });
    await settle(page);
    await clickText(page, 'User Metadata');
    await settle(page);
    await page.screenshot({ path: join(IMAGES, 'webui-waiting-run.png') });
    console.log(`docs/images/webui-waiting-run.png: ${waiting}, User Metadata`);
    await clickText(page, 'History');
    await settle(page);
    await page.evaluate(
      `[...document.querySelectorAll('h2, h3')].find((h) => h.textContent.includes('Event History'))?.scrollIntoView()`,
    );
    await settle(page);
    await page.screenshot({ path: join(IMAGES, 'webui-waiting-run-history.png') });
    console.log(`docs/images/webui-waiting-run-history.png: ${waiting}, Event History`);
  } finally {
    await browser.close();
    await connection.close();
    dev.kill('SIGINT');
    await new Promise((r) => dev.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

/** Clicks the first link, button or tab whose text starts with `text`. */
async function clickText(page: Page, text: string): Promise<void> {
  // browser code as text: the project compiles for Node, without the DOM's types
  const clicked = await page.evaluate(`(() => {
    const hit = [...document.querySelectorAll('a, button, [role="tab"]')].find((el) =>
      el.textContent.trim().startsWith(${JSON.stringify(text)}),
    );
    hit?.click();
    return hit !== undefined;
  })()`);
  if (!clicked) throw new Error(`the Web UI shows no '${text}' to click`);
}

/** Lets the Web UI finish rendering (its lists and payloads load after the page). */
async function settle(page: Page): Promise<void> {
  await page.waitForNetworkIdle({ idleTime: 1_000, timeout: 15_000 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1_500));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
