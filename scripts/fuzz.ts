/**
 * `npm run fuzz`: every fuzz target on SQLite and on PostgreSQL (a fresh database each, as the tests make them),
 * FUZZ_RUNS inputs per target per store (default 2,400: 22 targets × 2 stores = 105,600 inputs). Prints the seed
 * first (FC_SEED replays a run) and a summary per target at the end; exits 1 on any failure or unhandled rejection.
 */
import { openStore } from '../packages/server/src/store/open-store.ts';
import { watchUnhandled, type TargetSummary } from '../packages/server/test/fuzz/fuzz-harness.ts';
import { fuzzStore, TARGET_COUNT } from '../packages/server/test/fuzz/fuzz-suite.ts';
import { createTestDatabase, type Dialect } from '../packages/server/test/helpers/stores.ts';

const runs = Number(process.env['FUZZ_RUNS'] ?? 2400);
const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
const dialects = (process.env['FUZZ_STORES'] ?? 'sqlite,postgres').split(',') as Dialect[];
const unhandled = watchUnhandled();
console.log(`fuzz: seed ${seed} (FC_SEED=${seed} replays), ${runs} inputs per target, ${TARGET_COUNT} targets, stores ${dialects.join(', ')}`);

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
    });
  } finally {
    await database.drop();
  }
}

const total = results.reduce((n, r) => n + r.summary.inputs, 0);
const failures = results.flatMap((r) => r.summary.failures.map((f) => `[${r.dialect}] ${r.summary.target}: ${f}`));
console.log(`\nfuzz summary (seed ${seed}, ${Math.round((Date.now() - started) / 1000)} s)`);
console.log('target'.padEnd(28), dialects.map((d) => `${d} inputs/failures`.padStart(26)).join(''));
for (const name of [...new Set(results.map((r) => r.summary.target))]) {
  const cells = dialects.map((d) => {
    const s = results.find((r) => r.dialect === d && r.summary.target === name)?.summary;
    return `${s?.inputs ?? 0}/${s?.failures.length ?? 0}`.padStart(26);
  });
  console.log(name.padEnd(28), cells.join(''));
}
console.log(`total: ${total} inputs, ${failures.length} failures, ${unhandled.count()} unhandled rejections`);
for (const failure of failures) console.log(`\nFAILURE ${failure}`);
for (const reason of unhandled.list()) console.log(`\nUNHANDLED ${String(reason)}`);
process.exit(failures.length === 0 && unhandled.count() === 0 ? 0 : 1);
