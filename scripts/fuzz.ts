/**
 * `npm run fuzz`: every fuzz target on SQLite and on PostgreSQL (a fresh database each, as the tests make them),
 * FUZZ_RUNS inputs per target per store (default 2,400: 30 targets × 2 stores = 144,000 inputs). Prints the seed
 * first (FC_SEED replays a run), a summary per target at the end with how many inputs got each outcome (status and
 * error), and writes the same report to bench/results/fuzz-<time>[-<store>].md and .json; exits 1 on any failure or unhandled
 * rejection. FUZZ_STORES picks the stores, FUZZ_TARGETS (comma-separated name prefixes) the targets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { openStore } from '../packages/server/src/store/open-store.ts';
import { watchUnhandled, type TargetSummary } from '../packages/server/test/fuzz/fuzz-harness.ts';
import { fuzzStore, TARGET_COUNT } from '../packages/server/test/fuzz/fuzz-suite.ts';
import { createTestDatabase, type Dialect } from '../packages/server/test/helpers/stores.ts';

const runs = Number(process.env['FUZZ_RUNS'] ?? 2400);
const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
const dialects = (process.env['FUZZ_STORES'] ?? 'sqlite,postgres').split(',') as Dialect[];
const prefixes = process.env['FUZZ_TARGETS']?.split(',').filter(Boolean);
const only = (name: string) => !prefixes || prefixes.some((p) => name.startsWith(p));
const unhandled = watchUnhandled();
console.log(`fuzz: seed ${seed} (FC_SEED=${seed} replays), ${runs} inputs per target, ${prefixes ? `targets ${prefixes.join(', ')}` : `${TARGET_COUNT} targets`}, stores ${dialects.join(', ')}`);

const started = Date.now();
const results: { dialect: Dialect; summary: TargetSummary }[] = [];
for (const dialect of dialects) {
  const database = await createTestDatabase(dialect);
  const store = await openStore(database.url);
  await store.migrate();
  await store.close();
  try {
    await fuzzStore(database.url, runs, seed, (summary) => {
      results.push({ dialect, summary });
      console.log(`  [${dialect}] ${summary.target}: ${summary.inputs} inputs, ${summary.accepted} accepted, ${summary.refused} refused, ${summary.failures.length} failures`);
    }, only);
  } finally {
    await database.drop();
  }
}
const seconds = Math.round((Date.now() - started) / 1000);

const total = results.reduce((n, r) => n + r.summary.inputs, 0);
const accepted = results.reduce((n, r) => n + r.summary.accepted, 0);
const failures = results.flatMap((r) => r.summary.failures.map((f) => `[${r.dialect}] ${r.summary.target}: ${f}`));
const names = [...new Set(results.map((r) => r.summary.target))];
const lines: string[] = [];
lines.push(`fuzz summary (seed ${seed}, ${seconds} s)`, '');
lines.push(`${'target'.padEnd(28)}${dialects.map((d) => `${d} inputs/accepted/failures`.padStart(36)).join('')}`);
for (const name of names) {
  const cells = dialects.map((d) => {
    const s = results.find((r) => r.dialect === d && r.summary.target === name)?.summary;
    return `${s?.inputs ?? 0}/${s?.accepted ?? 0}/${s?.failures.length ?? 0}`.padStart(36);
  });
  lines.push(`${name.padEnd(28)}${cells.join('')}`);
}
lines.push('', 'outcomes per target (both stores added up; a replay or race names both answers):');
for (const name of names) {
  const counts = new Map<string, number>();
  for (const r of results.filter((x) => x.summary.target === name)) for (const [label, n] of Object.entries(r.summary.outcomes)) counts.set(label, (counts.get(label) ?? 0) + n);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  lines.push(`  ${name}: ${sorted.map(([label, n]) => `${label} ×${n}`).join(', ')}`);
}
lines.push('', `total: ${total} inputs (${accepted} accepted), ${failures.length} failures, ${unhandled.count()} unhandled rejections`);
console.log(`\n${lines.join('\n')}`);
for (const failure of failures) console.log(`\nFAILURE ${failure}`);
for (const reason of unhandled.list()) console.log(`\nUNHANDLED ${String(reason)}`);

// The report, beside the benchmark results. Measured on whatever machine ran it: the time is not a benchmark figure.
const stamp = new Date(started).toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
const reportName = `fuzz-${stamp}${dialects.length === 1 ? `-${dialects[0]}` : ''}`;
const dir = new URL('../bench/results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const machine = `${cpus().length} CPUs, node ${process.version}`;
writeFileSync(new URL(`${reportName}.json`, dir), `${JSON.stringify({ seed, runsPerTarget: runs, stores: dialects, seconds, machine, total, accepted, failures, unhandled: unhandled.list().map(String), results }, null, 2)}\n`);
writeFileSync(
  new URL(`${reportName}.md`, dir),
  `# npm run fuzz, ${new Date(started).toISOString()}\n\n${machine}; replay with \`FC_SEED=${seed} FUZZ_RUNS=${runs}${process.env['FUZZ_STORES'] ? ` FUZZ_STORES=${dialects.join(',')}` : ''}${prefixes ? ` FUZZ_TARGETS=${prefixes.join(',')}` : ''}\`.\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n${failures.map((f) => `\nFAILURE ${f}\n`).join('')}`,
);
process.exit(failures.length === 0 && unhandled.count() === 0 ? 0 : 1);
