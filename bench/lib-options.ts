import { parseArgs } from 'node:util';

/** What every benchmark accepts on its command line (`npm run bench -- cc --rounds 5`). */
export interface BenchOptions {
  /** Seconds of load per server before round 1, discarded: JIT and heap sizing settle in about 8 s. */
  warmupSeconds: number;
  rounds: number;
  durationSeconds: number;
  connections: number;
  /** Pin each server to core 1 and wrk to core 0; off only to compare with unpinned figures. */
  pinned: boolean;
  /** Run Mandate under `--cpu-prof` (alone: a profiled server's figures are not comparable with the peer's). */
  profile: boolean;
  servers: readonly ServerName[];
  /** Distinct tokens cycled through by the introspection load (1 = the same token every time). */
  tokens: number;
  /** Mandate's store: a fresh SQLite file, or a fresh schema in the local PostgreSQL. */
  store: 'sqlite' | 'postgres';
  /** `mandate serve` processes on the one PostgreSQL database, the load split between them. */
  instances: number;
  /** Constant-rate benchmarks (exchange, soak): requests per second. */
  rate: number;
  /** soak: minutes of load. */
  minutes: number;
  quick: boolean;
}

export type ServerName = 'mandate' | 'oidc-provider';
const SERVER_NAMES: readonly ServerName[] = ['mandate', 'oidc-provider'];

const usage = (name: string) => `usage: npm run bench -- ${name} [options]

  --duration <s>     seconds per measured round (default 8)
  --rounds <n>       measured rounds per server, interleaved between servers (default 7: the VM's speed drifts by
                     minutes, so many short alternating rounds give steadier medians than a few long ones)
  --warmup <s>       seconds of discarded load per server before round 1 (default 10)
  --quick            1 round of 5 s after 3 s of warm-up, to check the setup
  --connections <n>  wrk keep-alive connections (default 32)
  --unpinned         no taskset: servers and wrk share both cores
  --servers <list>   comma-separated: mandate,oidc-provider (default both)
  --tokens <n>       introspect only: distinct tokens cycled through (default 1)
  --store <s>        sqlite (default: a fresh file) or postgres (a fresh schema on 127.0.0.1:5432/test)
  --instances <n>    postgres only: mandate serve processes on the one database, the load split between them
                     (default 1; several always run unpinned: 2 cores cannot give each its own)
  --rate <n>         exchange, soak: constant request rate per second (default 1000)
  --minutes <n>      soak: minutes of load (default 10)
  --profile          Mandate alone under --cpu-prof; writes bench/results/<name>-<date>.cpuprofile and
                     prints the top self-time functions of the measured rounds`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`--${flag} must be a positive whole number, got "${value}"`);
  return Number(value);
}

export function parseBenchOptions(name: string, argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        rounds: { type: 'string' },
        warmup: { type: 'string' },
        quick: { type: 'boolean', default: false },
        connections: { type: 'string' },
        unpinned: { type: 'boolean', default: false },
        servers: { type: 'string' },
        tokens: { type: 'string' },
        profile: { type: 'boolean', default: false },
        store: { type: 'string' },
        instances: { type: 'string' },
        rate: { type: 'string' },
        minutes: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
    if (parsed.help) {
      console.log(usage(name));
      process.exit(0);
    }
    const servers = (parsed.servers ?? SERVER_NAMES.join(',')).split(',').filter(Boolean);
    for (const s of servers) if (!SERVER_NAMES.includes(s as ServerName)) throw new Error(`--servers: unknown server "${s}"`);
    const quick = parsed.quick;
    const store = parsed.store ?? 'sqlite';
    if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite or postgres, got "${store}"`);
    const instances = positiveInt('instances', parsed.instances, 1);
    if (instances > 1 && store !== 'postgres') throw new Error('--instances needs --store postgres (several instances share one database)');
    return {
      warmupSeconds: positiveInt('warmup', parsed.warmup, quick ? 3 : 10),
      rounds: positiveInt('rounds', parsed.rounds, quick ? 1 : 7),
      durationSeconds: positiveInt('duration', parsed.duration, quick ? 5 : 8),
      connections: positiveInt('connections', parsed.connections, 32),
      // Two instances, PostgreSQL and wrk cannot each have a core of 2: several instances always run unpinned.
      pinned: !parsed.unpinned && instances === 1,
      profile: parsed.profile,
      servers: parsed.profile ? ['mandate'] : (servers as ServerName[]),
      tokens: positiveInt('tokens', parsed.tokens, 1),
      store,
      instances,
      rate: positiveInt('rate', parsed.rate, 1000),
      minutes: positiveInt('minutes', parsed.minutes, 10),
      quick,
    };
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage(name)}`);
    process.exit(2);
  }
}
