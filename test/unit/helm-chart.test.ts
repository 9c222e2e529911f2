/**
 * The deployment files cannot drift from the code: the Helm chart in deploy/helm/idflow and
 * docker-compose.temporal.yml pass idflow only variables it reads (src/config) or secrets that
 * definitions name with secretEnv, register every search attribute idflow uses, and give the
 * worker longer to stop than its own shutdown grace. Helm itself is not needed: values.yaml and
 * Chart.yaml are plain YAML, and the templates are read as text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../src/dsl/duration';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { ROOT, readRepoFile } from '../support/definitions';

const CHART = join(ROOT, 'deploy', 'helm', 'idflow');
const TEMPLATES = join(CHART, 'templates');

/** The variables src/config parses: the keys of its EnvSchema. */
function idflowSettings(): Set<string> {
  const source = readRepoFile('src/config/index.ts');
  const start = source.indexOf('const EnvSchema = z.object({');
  const end = source.indexOf('\n});', start);
  expect(start).toBeGreaterThan(-1);
  const names = [...source.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map(
    (m) => m[1] as string,
  );
  expect(names).toContain('DATABASE_URL');
  return new Set(names);
}

/** The secrets definitions/ reference by name (`secretEnv: NAME`). */
function secretEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name))
        for (const m of readFileSync(path, 'utf8').matchAll(/secretEnv: *([A-Z][A-Z0-9_]*)/g))
          names.add(m[1] as string);
    }
  };
  walk(join(ROOT, 'definitions'));
  return names;
}

/** Not idflow's settings, but read by the Node.js runtime the image runs. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

const settings = idflowSettings();
const templates = readdirSync(TEMPLATES)
  .filter((name) => name.endsWith('.yaml') || name.endsWith('.tpl'))
  .map((name) => ({ name, text: readFileSync(join(TEMPLATES, name), 'utf8') }));

const seconds = (duration: string): number => {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new Error(`not a duration: ${duration}`);
  return ms / 1000;
};

const mebibytes = (quantity: string): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`not a quantity in Mi or Gi: ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

describe('Helm chart', () => {
  const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, string>;
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
    secrets: { keys: Record<string, string> };
    worker: {
      shutdownGrace: string;
      terminationGracePeriodSeconds: number;
      heapMiB: number;
      maxCachedWorkflows: number;
      metricsPort: number | null;
      resources: { limits: { memory: string } };
    };
    securityContext: { runAsNonRoot: boolean; runAsUser: number; readOnlyRootFilesystem: boolean };
  };

  test('Chart.yaml is a v2 chart whose appVersion is the package version', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('idflow');
    expect(chart.appVersion).toBe(pkg.version);
  });

  test('every variable the templates give an idflow container is a setting idflow reads', () => {
    const set = new Set<string>();
    for (const { name, text } of templates) {
      // the Temporal CLI of the admin tools image reads its own variables
      if (name === 'search-attributes-job.yaml') continue;
      for (const m of text.matchAll(/- name: ([A-Z][A-Z0-9_]*)\s*$/gm)) set.add(m[1] as string);
    }
    expect(set.size).toBeGreaterThan(10);
    const unknown = [...set].filter((n) => !settings.has(n) && !RUNTIME_VARIABLES.has(n));
    expect(unknown).toEqual([]);
  });

  test('the default key names in the existing Secret are the variables they become', () => {
    for (const key of Object.values(values.secrets.keys)) expect(settings).toContain(key);
  });

  test('every .Values path a template reads is in values.yaml', () => {
    const missing: string[] = [];
    for (const { name, text } of templates)
      for (const m of text.matchAll(/\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = (m[1] as string).slice(1).split('.');
        let node: unknown = values;
        for (const part of path) {
          node =
            node !== null && typeof node === 'object' && part in node
              ? (node as Record<string, unknown>)[part]
              : Symbol.for('missing');
        }
        if (node === Symbol.for('missing')) missing.push(`${name}: .Values.${path.join('.')}`);
      }
    expect(missing).toEqual([]);
  });

  test("every template's actions are closed and its blocks ended", () => {
    for (const { name, text } of templates) {
      const opens = text.split('{{').length - 1;
      const closes = text.split('}}').length - 1;
      expect(`${name}: ${opens}`).toBe(`${name}: ${closes}`);
      const blocks = [...text.matchAll(/\{\{-?\s*(if|range|with|define)\b/g)].length;
      const ends = [...text.matchAll(/\{\{-?\s*end\s*-?\}\}/g)].length;
      expect(`${name}: ${blocks} blocks`).toBe(`${name}: ${ends} blocks`);
    }
  });

  test('the worker is given longer to stop than its shutdown grace, and a heap cap under its memory limit', () => {
    const { worker } = values;
    expect(worker.terminationGracePeriodSeconds).toBeGreaterThan(seconds(worker.shutdownGrace));
    expect(worker.heapMiB).toBeLessThan(mebibytes(worker.resources.limits.memory));
    expect(worker.maxCachedWorkflows).toBeGreaterThan(0);
    expect(worker.metricsPort).toEqual(expect.any(Number));
    const deployment = templates.find((t) => t.name === 'worker.yaml')?.text ?? '';
    expect(deployment).toContain('--max-old-space-size=%v');
    expect(deployment).toContain('path: /healthz');
  });

  test('containers run as the non-root user of the image, on a read-only root filesystem', () => {
    expect(values.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      readOnlyRootFilesystem: true,
    });
    expect(readRepoFile('Dockerfile')).toMatch(/^USER 1000:1000$/m);
  });

  test('the gateway is ready on /readyz and alive on /healthz', () => {
    const gateway = templates.find((t) => t.name === 'gateway.yaml')?.text ?? '';
    expect(gateway).toMatch(/readinessProbe:\s+httpGet:\s+path: \/readyz/);
    expect(gateway).toMatch(/livenessProbe:\s+httpGet:\s+path: \/healthz/);
  });

  test('the migrations Job runs before install and upgrade', () => {
    const job = templates.find((t) => t.name === 'migrations-job.yaml')?.text ?? '';
    expect(job).toContain('helm.sh/hook: pre-install,pre-upgrade');
  });

  test('the search attributes Job registers every attribute idflow uses', () => {
    const job = templates.find((t) => t.name === 'search-attributes-job.yaml')?.text ?? '';
    for (const [name, type] of SEARCH_ATTRIBUTES)
      expect(job).toMatch(
        type === 'Keyword'
          ? new RegExp(
              `for name in [^;]*\\b${name}\\b[^;]*; do\\s+ensure --name \\$name --type Keyword`,
            )
          : new RegExp(`ensure --name ${name} --type ${type}\\b`),
      );
  });
});

describe('docker-compose.temporal.yml', () => {
  type Service = {
    command?: string[];
    environment?: Record<string, string | null>;
    stop_grace_period?: string;
    healthcheck?: { test: string[] };
    depends_on?: Record<string, { condition: string }>;
  };
  const compose = parse(readRepoFile('docker-compose.temporal.yml'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const idflowServices = Object.entries(compose.services).filter(([name]) =>
    name.startsWith('idflow-'),
  );

  test('idflow services are given only settings idflow reads and secrets definitions name', () => {
    const secrets = secretEnvNames();
    const unknown: string[] = [];
    for (const [name, service] of idflowServices)
      for (const key of Object.keys(service.environment ?? {}))
        if (!settings.has(key) && !secrets.has(key) && !RUNTIME_VARIABLES.has(key))
          unknown.push(`${name}: ${key}`);
    expect(idflowServices.length).toBeGreaterThanOrEqual(4);
    expect(unknown).toEqual([]);
  });

  test('the worker is stopped after its shutdown grace, and checked on its metrics port', () => {
    const worker = compose.services['idflow-worker'] as Service;
    const grace = worker.environment?.IDFLOW_WORKER_SHUTDOWN_GRACE ?? '30s';
    expect(seconds(worker.stop_grace_period ?? '10s')).toBeGreaterThan(seconds(grace));
    const port = worker.environment?.IDFLOW_METRICS_PORT;
    expect(port).toMatch(/^\d+$/);
    expect(worker.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${port}/healthz`);
    expect(worker.environment?.NODE_OPTIONS).toMatch(/--max-old-space-size=\d+/);
  });

  test('the gateway is checked on /readyz; worker and gateway wait for migrations and definitions', () => {
    const gateway = compose.services['idflow-gateway'] as Service;
    expect(gateway.healthcheck?.test.join(' ')).toContain('/readyz');
    for (const name of ['idflow-worker', 'idflow-gateway'])
      expect(compose.services[name]?.depends_on?.['idflow-definitions']?.condition).toBe(
        'service_completed_successfully',
      );
  });
});
