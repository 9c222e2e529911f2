/**
 * docker-compose.temporal.yml cannot run here (no Docker engine), so its shape is checked: every
 * image pinned, idflow's search attributes registered, worker and gateway wired to Temporal and
 * PostgreSQL, secrets taken from the environment.
 */
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { readRepoFile } from '../support/definitions';

const text = readRepoFile('docker-compose.temporal.yml');
const compose = parse(text, { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      command?: string[] | string[][];
      environment?: Record<string, string>;
      ports?: string[];
    }
  >;
};

test('every service has a pinned image', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    expect(`${name}: ${service.image ?? 'no image'}`).toMatch(/: [\w./-]+:[\w.-]+$/);
    expect(service.image).not.toMatch(/:latest$/);
  }
});

test('the search attributes idflow uses are registered', () => {
  const command = JSON.stringify(compose.services['temporal-search-attributes']?.command);
  for (const [name, type] of SEARCH_ATTRIBUTES) {
    expect(command).toContain(name);
    if (type !== 'Keyword') expect(command).toContain(`--name ${name} --type ${type}`);
  }
});

test('worker and gateway run idflow against Temporal and PostgreSQL; no secret is written inline', () => {
  const worker = compose.services['idflow-worker'];
  const gateway = compose.services['idflow-gateway'];
  expect(worker?.command).toEqual(['worker']);
  expect(gateway?.command).toEqual(['gateway']);
  for (const service of [worker, gateway]) {
    expect(service?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(service?.environment?.DATABASE_URL).toContain('${POSTGRES_PASSWORD:?');
  }
  expect(gateway?.environment?.IDFLOW_HOST).toBe('0.0.0.0');
  expect(text).not.toMatch(/(PASSWORD|PWD): +[^$\s]/);
});
