/**
 * The prebuilt workflow bundle. Bundling the workflow code (webpack) takes seconds, so the
 * bundle is cached under the data directory, keyed by a hash of every source file it can
 * include; a worker whose code has not changed starts at once.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from './cli';
import { FAILURE_CONVERTER_PATH } from './data-converter';

/**
 * Everything workflow code may import: all of `src`, since workflows reach into more of it over
 * time (access, population, timeline, connectors' declarations). A narrower list once let a
 * worker start with a stale bundle after a change to a module it imported.
 */
const SOURCES = ['workflows', 'src'];

/** The workflow interceptors every bundle carries: each execution decides its patches first. */
export const WORKFLOW_INTERCEPTORS_PATH = require.resolve(
  join(PROJECT_ROOT, 'workflows', 'interceptors'),
);

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]),
    ),
  );
  return nested.flat();
}

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const all = (await Promise.all(SOURCES.map((s) => files(join(PROJECT_ROOT, s))))).flat().sort();
  for (const file of [...all, join(PROJECT_ROOT, 'package-lock.json')]) {
    hash.update(file.slice(PROJECT_ROOT.length));
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The workflow bundle's code, from the cache or freshly built (and then cached). */
export async function workflowBundle(
  cacheDir: string,
  log: (message: string) => void = () => undefined,
): Promise<{ code: string }> {
  const path = join(cacheDir, `workflows-${await sourceHash()}.js`);
  try {
    return { code: await readFile(path, 'utf8') };
  } catch {
    log('bundling workflow code (cached for the next start)');
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve(join(PROJECT_ROOT, 'workflows')),
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    // failures leave the sandbox with their text in an encoded (encryptable) payload
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => log(m),
      error: (m) => log(m),
    },
  });
  await mkdir(cacheDir, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, code);
  await rename(temp, path);
  return { code };
}
