/**
 * The functions a V8 CPU profile (`node --cpu-prof`) spent most time in: self time and total
 * time (with what they called), by function and source location, and self time by file.
 *
 * Run: node --import tsx bench/cpu-profile-top.ts <file.cpuprofile> [TOP=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: bench/cpu-profile-top.ts <file.cpuprofile>');
const TOP = Number(process.env.TOP ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
const ms = (profile.endTime - profile.startTime) / 1000;

const place = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*?\/(?=src|workflows|activities)/, '')}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const total = new Map<string, number>();
const files = new Map<string, number>();
function walk(n: ProfileNode, onStack: Set<string>): number {
  let sum = n.hitCount ?? 0;
  const key = place(n);
  self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
  const fileKey = n.callFrame.url || `(${n.callFrame.functionName})`;
  files.set(fileKey, (files.get(fileKey) ?? 0) + (n.hitCount ?? 0));
  const inner = new Set(onStack).add(key);
  for (const c of n.children ?? []) sum += walk(byId.get(c) as ProfileNode, inner);
  // recursion counts once
  if (!onStack.has(key)) total.set(key, (total.get(key) ?? 0) + sum);
  return sum;
}
walk(profile.nodes[0] as ProfileNode, new Set());

const pct = (h: number) => `${((100 * h) / hits).toFixed(1).padStart(5)} %`;
const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
console.log(`${file}: ${ms.toFixed(0)} ms profiled, ${hits} samples`);
console.log('\nself time');
for (const [k, h] of top(self)) console.log(`${pct(h)}  ${k}`);
console.log('\ntotal time');
for (const [k, h] of top(total)) console.log(`${pct(h)}  ${k}`);
console.log('\nself time by file');
for (const [k, h] of top(files)) console.log(`${pct(h)}  ${k}`);
