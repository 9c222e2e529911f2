/**
 * How long compiling all of definitions/ takes: the first compile in a fresh process (what
 * `idflow validate` pays) and the median over repeated compiles (what a long-running process
 * pays when it reloads definitions). Run: npm run bench:compile
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { compileSources } from '../src/dsl/compiler';
import { loadSources } from '../src/dsl/load';

async function main(): Promise<void> {
  const dir = process.argv[2] ?? join(__dirname, '..', 'definitions');
  const { sources } = await loadSources([dir]);
  const documents = sources.reduce((n, s) => n + s.text.split(/^---$/m).length, 0);

  const first = performance.now();
  const result = compileSources(sources);
  const firstMs = performance.now() - first;
  if (result.diagnostics.length > 0)
    throw new Error(`${dir} has ${result.diagnostics.length} problems`);

  const runs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    compileSources(sources);
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)] as number;
  const p95 = runs[Math.floor(runs.length * 0.95)] as number;
  console.log(
    `compile ${dir}: ${sources.length} files, ${documents} documents, ${result.flows.size} flows, ${result.policies.size} policies`,
  );
  console.log(`  first compile in a fresh process: ${firstMs.toFixed(1)} ms`);
  console.log(`  repeated compiles (50): median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
