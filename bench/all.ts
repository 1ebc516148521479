/**
 * `npm run bench -- all` (and `npm run bench -- --quick`): every scenario, each next to its peer in the same run,
 * on SQLite and on PostgreSQL, one after the other in child processes; then one table of all of them with the
 * issue's targets, in `bench/results/all-<date>.json` and `.md` (the scenarios' own JSON files beside it).
 * `--quick`: 1 round of 3 s after 2 s of warm-up per server, to check the setup (figures from it are not results).
 * Other options (`--unpinned`, `--rounds`, `--duration`, `--warmup`, `--connections`, `--rate`) go to every run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './lib-machine.ts';
import { writeMarkdown } from './lib-markdown.ts';
import { fileTimestamp, writeResults } from './lib-report.ts';
import { type Entry, formatAllTable, judgeTargets } from './lib-targets.ts';

const RUN = fileURLToPath(new URL('./run.ts', import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
// --quick's own defaults for single scenarios are longer; these keep the whole suite under 5 minutes.
const common = [...argv.filter((a) => a !== '--quick'), ...(quick ? ['--rounds', '1', '--duration', '3', '--warmup', '2'] : [])];
const unpinned = common.includes('--unpinned');

interface Step {
  id: string;
  scenario: string;
  store: 'sqlite' | 'postgres';
  args: string[];
}
const sqlite = (id: string, scenario: string, args: string[] = []): Step => ({ id, scenario, store: 'sqlite', args });
const postgres = (id: string, scenario: string, args: string[] = []): Step => ({ id, scenario, store: 'postgres', args: ['--store', 'postgres', '--servers', 'mandate', ...args] });
const plan: Step[] = [
  sqlite('cc', 'cc'),
  sqlite('introspect', 'introspect'),
  sqlite('introspect-5000', 'introspect', ['--tokens', '5000']),
  sqlite('code', 'code'),
  sqlite('refresh', 'refresh'),
  sqlite('two-hop', 'two-hop'),
  sqlite('register', 'register'),
  sqlite('sdk-verify', 'sdk-verify'),
  sqlite('exchange', 'exchange'),
  postgres('cc', 'cc'),
  ...(quick ? [] : [postgres('introspect', 'introspect'), postgres('introspect-5000', 'introspect', ['--tokens', '5000']), postgres('code', 'code'), postgres('refresh', 'refresh'), postgres('two-hop', 'two-hop'), postgres('register', 'register')]),
  // One instance against two on the one database: both unpinned (2 cores cannot give two instances, PostgreSQL and wrk each their own).
  postgres('cc-1-instance-unpinned', 'cc', unpinned ? [] : ['--unpinned']),
  postgres('cc-2-instances', 'cc', ['--instances', '2']),
];

/** Runs one scenario in a child process, its output passed through; returns the path of the JSON it wrote. */
function runStep(step: Step): Promise<string> {
  const args = [RUN, step.scenario, ...common, ...step.args];
  console.log(`\n=== ${step.id} on ${step.store}: node bench/run.ts ${args.slice(1).join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const path = /^Results written to (\S+)/m.exec(out)?.[1];
      if (code !== 0 || !path) reject(new Error(`${step.id} on ${step.store} failed (exit ${code})`));
      else resolve(path);
    });
  });
}

const startedAt = new Date();
const began = Date.now();
const entries: Entry[] = [];
const failures: string[] = [];
for (const step of plan) {
  try {
    const path = await runStep(step);
    entries.push({ id: step.id, scenario: step.scenario, store: step.store, file: path.split('/').at(-1)!, result: JSON.parse(readFileSync(path, 'utf8')) });
  } catch (err) {
    failures.push((err as Error).message);
    console.error(`  ${(err as Error).message}`);
  }
}
const seconds = (Date.now() - began) / 1000;
const targets = judgeTargets(entries);
const table = formatAllTable(entries, targets);
const head = `# Benchmark suite, ${startedAt.toISOString()}${quick ? ' (--quick: a check of the setup, not figures)' : ''}\n\n` +
  `${unpinned ? 'Unpinned' : 'Each server pinned to core 1, the load generator to core 0 (two instances: unpinned)'}; ` +
  `the whole suite took ${Math.round(seconds)} s. Machine: ${JSON.stringify(machineInfo())}\n`;
const md = `${head}\n${table}${failures.length ? `\n\nFAILED: ${failures.join('; ')}` : ''}\n`;
const path = writeResults(quick ? 'quick' : 'all', startedAt, { benchmark: quick ? 'quick' : 'all', startedAt: startedAt.toISOString(), seconds, options: common, targets, failures, runs: entries.map((e) => ({ id: e.id, store: e.store, file: e.file })) });
writeMarkdown(path, md);
console.log(`\n${table}\n\nThe suite took ${Math.round(seconds)} s (${fileTimestamp(startedAt)}).${failures.length ? ` FAILED: ${failures.join('; ')}` : ''}\nResults written to ${path} and ${path.replace(/\.json$/, '.md')}`);
if (failures.length) process.exitCode = 1;
