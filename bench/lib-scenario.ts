import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contender, runRounds, summarise } from './lib-benchmark.ts';
import { machineInfo, prepareMachine } from './lib-machine.ts';
import type { MandateStartOptions, MandateUnderTest } from './lib-mandate.ts';
import { type BenchOptions, parseBenchOptions, type ServerName } from './lib-options.ts';
import { formatProfile, summariseProfile } from './lib-profile.ts';
import { fileTimestamp, formatTable, RESULTS_DIR, ratioOf, writeResults } from './lib-report.ts';

/** A started server with its load and check done; `close` stops it. */
export interface Prepared {
  contender: Contender;
  close(): Promise<void>;
}

export interface StartContext {
  options: BenchOptions;
  core: number | null;
  /** Where Mandate writes its `--cpu-prof` profile, or null. */
  profileDir: string | null;
  /** A command Mandate's `serve` runs under (valgrind, for lib-flow-instructions.ts). */
  wrapper?: readonly string[];
}

/** One benchmark: how to start each server and what to load it with. */
export interface Scenario {
  name: string;
  title: string;
  /** What the load is, in a sentence, for the results file. */
  load: string;
  /** What one counted operation is, when not one request (e.g. `code flows`: authorize + token). */
  unit?: string;
  /** The servers this scenario can run; `--servers` picks among them. Default both. */
  servers?: readonly ServerName[];
  start: Partial<Record<ServerName, (ctx: StartContext) => Promise<Prepared>>>;
}

/** Options for `startMandate` that come from the command line (store, instances), with the server's core. */
export function mandateStart(ctx: StartContext): MandateStartOptions {
  return { core: ctx.core, profileDir: ctx.profileDir, store: ctx.options.store, instances: ctx.options.instances, ...(ctx.wrapper ? { wrapper: ctx.wrapper } : {}) };
}

/** The origin (`http://127.0.0.1:<port>`) of each Mandate instance, for the load generator. */
export function originsOf(m: MandateUnderTest): string[] {
  return m.servers.map((s) => `http://127.0.0.1:${new URL(s.url).port}`);
}

/**
 * Runs a scenario end to end: starts the selected servers (each checks one response before any load), warm-up and
 * interleaved rounds, the table, then the results JSON, or with `--profile` the profile summary.
 */
export async function runScenario(scenario: Scenario, argv: readonly string[]): Promise<void> {
  const options = parseBenchOptions(scenario.name, argv);
  const startedAt = new Date();
  const machine = machineInfo();
  const { serverCore } = prepareMachine(options);
  // wrk scripts and Mandate's profile; the servers' databases live in directories of their own.
  const workDir = mkdtempSync(join(tmpdir(), 'mandate-bench-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const profileDir = options.profile ? join(workDir, 'profile') : null;
  const prepared: Prepared[] = [];
  const closeAll = () => Promise.all(prepared.splice(0).map((p) => p.close()));
  process.once('SIGINT', () => void closeAll().finally(() => process.exit(130)));

  console.log(`${scenario.title}\n${scenario.load}\n`);
  try {
    for (const name of options.servers) {
      const start = scenario.start[name];
      if (!start) {
        console.log(`  (${name} cannot take part in ${scenario.name})`);
        continue;
      }
      const p = await start({ options, core: serverCore, profileDir });
      prepared.push(p);
      console.log(`  check    ${(p.contender.label ?? name).padEnd(14)} ok: ${JSON.stringify(p.contender.checked)}`);
    }
    const contenders = prepared.map((p) => p.contender);
    const { kept: rounds, discarded } = await runRounds(contenders, options, workDir);
    const summaries = contenders.map((c) => ({ ...summarise(c.name, rounds.get(c.name)!, c.label), rssMiB: c.server.rssBytes() / 2 ** 20 }));
    const ratio = ratioOf(summaries, rounds);
    console.log(`\n${formatTable(summaries, ratio, options)}`);
    const keptDisturbed = [...rounds.values()].flat().filter((r) => r.disturbed).length;
    if (discarded.length > 0 || keptDisturbed > 0) {
      console.log(
        `${discarded.length} round(s) repeated because other processes took CPU; ` +
          `${keptDisturbed} kept although disturbed${keptDisturbed > 0 ? ' (their figures are low: rerun on a quiet machine)' : ''}.`,
      );
    }

    if (profileDir) {
      await closeAll();
      const written = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (!written) throw new Error('Mandate wrote no .cpuprofile');
      const target = `${RESULTS_DIR}${scenario.name}-${fileTimestamp(startedAt)}.cpuprofile`;
      copyFileSync(join(profileDir, written), target);
      const measured = rounds.get('mandate')!;
      const requests = measured.reduce((n, r) => n + r.units, 0);
      const summary = summariseProfile(target, measured.map((r) => r.window), requests);
      const text = `${formatTable(summaries, null, options)}\n\n${formatProfile(summary, requests)}\n`;
      const summaryPath = target.replace(/\.cpuprofile$/, '.profile.txt');
      writeFileSync(summaryPath, `${scenario.title}\n${scenario.load}\nMandate under node --cpu-prof (1 ms sampling)\n\n${text}`);
      console.log(`\n${formatProfile(summary, requests)}\n\nProfile written to ${target}, summary to ${summaryPath}`);
      console.log('Figures above were taken under the profiler; run without --profile to compare servers.');
      return;
    }

    const path = writeResults(scenario.name, startedAt, {
      benchmark: scenario.name,
      title: scenario.title,
      load: scenario.load,
      unit: scenario.unit ?? 'requests',
      startedAt: startedAt.toISOString(),
      machine,
      options,
      servers: Object.fromEntries(contenders.map((c) => [c.name, { settings: c.settings, checked: c.checked }])),
      summary: summaries,
      ratio,
      rounds: Object.fromEntries(rounds),
      discardedRounds: discarded,
    });
    console.log(`\nResults written to ${path}`);
  } finally {
    await closeAll();
  }
}
