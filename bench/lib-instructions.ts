import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_SCOPES, basicAuthorization, CLIENT_CREDENTIALS_BODY, discoverEndpoints, FORM_CONTENT_TYPE, issueTokens, RESOURCE } from './lib-fixture.ts';
import { MANDATE_RATE_LIMIT_PER_MINUTE } from './lib-mandate.ts';
import { formatProfile, summariseProfile } from './lib-profile.ts';

/**
 * Instructions per request of `mandate serve`, counted by valgrind's callgrind: a figure the machine's load and speed
 * do not move (the shared 2-core machine forbids throughput figures while others work). The server runs as the
 * benchmarks run it (fresh SQLite, production mode, the durable audit trail, rate limits raised but running) under
 * callgrind with instrumentation off; after a warm-up that lets V8 optimise the hot path, it is switched on for
 * `requests` requests (`concurrency` in flight on keep-alive connections, as wrk does), then off. Every instruction
 * of the process counts, its helper threads (GC, libuv) included. Slow: a request takes ~50× longer under valgrind.
 */

const LAUNCHER = fileURLToPath(new URL('../packages/server/bin/mandate.js', import.meta.url));

export type InstructionScenario = 'cc' | 'introspect';

export interface InstructionOptions {
  scenario: InstructionScenario;
  /** introspect: distinct tokens cycled through (1: one repeated token). */
  tokens?: number;
  warmup?: number;
  requests?: number;
  concurrency?: number;
  /**
   * `callgrind` (default): count instructions. `cpu-prof`: run the server under `node --cpu-prof` instead and return
   * the self-time shares of the measured requests (proportions, which load does not skew much), in `profile`.
   * `strace`: count the system calls of the measured requests (`strace -c -f`, every thread), in `profile`: the
   * kernel's share, which callgrind does not see (SQLite's writes and syncs, socket writes).
   */
  tool?: 'callgrind' | 'cpu-prof' | 'strace';
  /**
   * V8 flags for the server process (`--max-semi-space-size=64`, `--trace-gc`: with `strace`, the collections made
   * during the measured requests are then counted in `profile`).
   */
  nodeFlags?: string[];
  /** callgrind: copy its output file here (for `callgrind_annotate`: which native frames, OpenSSL, V8 builtins, libuv, cost what). */
  keep?: string;
}

export interface InstructionCount {
  scenario: InstructionScenario;
  tokens: number;
  requests: number;
  concurrency: number;
  instructions: number;
  perRequest: number;
  /** With `tool: 'cpu-prof'`: the profile's summary; with `strace`: the system call counts; as text. */
  profile?: string;
}

function callgrindControl(pid: number, ...args: string[]): void {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
}

/** Sends `count` POSTs, `concurrency` at a time over keep-alive connections; each must answer 200 with `expect` in its body. */
async function load(url: URL, headers: Record<string, string>, bodies: string[], count: number, concurrency: number, expect: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 && text.includes(expect) ? resolve() : reject(new Error(`answered ${res.statusCode}: ${text}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await one(bodies[i % bodies.length]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
}

/** Collections by kind (`Scavenge`, `Mark-Compact`, …) from `--trace-gc` lines, when there are any. */
function gcSummary(lines: string[]): string {
  if (lines.length === 0) return '';
  const kinds = new Map<string, number>();
  for (const line of lines) {
    const kind = /ms: ([A-Za-z-]+(?: \(interleaved\))?)/.exec(line)?.[1] ?? 'other';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return `\ngarbage collections: ${[...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ')}\n${lines.slice(-5).join('\n')}`;
}

/** Attaches `strace -c -f` to every thread of `pid`; resolves once each thread is traced. */
async function attachStrace(pid: number, out: string): Promise<{ detach(): Promise<void> }> {
  const threads = readdirSync(`/proc/${pid}/task`).length;
  const tracer = spawn('strace', ['-c', '-f', '-p', String(pid), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let attached = 0;
    tracer.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      // `Process N attached with T threads` for a process already threaded, else one line per thread.
      for (const line of chunk.split('\n')) attached += / attached$/.test(line) ? 1 : Number(/ attached with (\d+) threads$/.exec(line)?.[1] ?? 0);
      if (attached >= threads) resolve();
    });
    tracer.once('exit', (code) => reject(new Error(`strace exited (${code}) before it attached`)));
  });
  return {
    detach: () =>
      new Promise<void>((resolve) => {
        tracer.once('exit', () => resolve());
        tracer.kill('SIGINT');
      }),
  };
}

export async function countInstructions(options: InstructionOptions): Promise<InstructionCount> {
  const { scenario, tokens = 1, warmup = 3000, requests = 2000, concurrency = 16, tool = 'callgrind', keep, nodeFlags = [] } = options;
  const dir = mkdtempSync(join(tmpdir(), 'mandate-callgrind-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    MANDATE_KEK_FILE: join(dir, 'kek'),
    MANDATE_RATE_LIMIT_CLIENT: String(MANDATE_RATE_LIMIT_PER_MINUTE),
    MANDATE_RATE_LIMIT_IP: String(MANDATE_RATE_LIMIT_PER_MINUTE),
    // Work done per second rather than per request (the revocation webhook dispatcher's poll) would count in
    // proportion to how long valgrind takes, which the machine's load decides: polled once a minute, it hardly counts.
    MANDATE_REVOCATION_EVENTS_POLL_MS: '60000',
  };
  const db = `sqlite:${join(dir, 'mandate.db')}`;
  const cli = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [LAUNCHER, ...args, '--db', db, '--json'], { env, encoding: 'utf8' }));
  let child: ChildProcess | undefined;
  try {
    const resource = cli('resource', 'create', '--uri', RESOURCE, '--scope', AGENT_SCOPES.join(' '));
    const agent = cli('agent', 'create', '--name', 'bench-agent', '--scope', AGENT_SCOPES.join(' '), '--audience', RESOURCE);
    const serve = [...nodeFlags, LAUNCHER, 'serve', '--port', '0', '--db', db];
    child =
      tool === 'callgrind'
        ? spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'callgrind.out')}`, process.execPath, ...serve], { env, stdio: ['ignore', 'pipe', 'pipe'] })
        : tool === 'strace'
          ? spawn(process.execPath, serve, { env, stdio: ['ignore', 'pipe', 'pipe'] })
          : spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250', ...serve], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /Mandate authorization server on (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready: ${out}`)));
    });
    const endpoints = await discoverEndpoints(baseUrl);
    const agentAuthorization = basicAuthorization(agent.client_id, agent.client_secret);
    const [url, headers, bodies, expect] =
      scenario === 'cc'
        ? [new URL(endpoints.tokenPath, endpoints.origin), { authorization: agentAuthorization, 'content-type': FORM_CONTENT_TYPE }, [CLIENT_CREDENTIALS_BODY], '"access_token":"']
        : [
            new URL(endpoints.introspectionPath, endpoints.origin),
            { authorization: `Bearer ${resource.api_key}`, 'content-type': FORM_CONTENT_TYPE },
            (await issueTokens(endpoints, agentAuthorization, tokens)).map((token) => new URLSearchParams({ token }).toString()),
            '"active":true',
          ];
    await load(url, headers, bodies, warmup, concurrency, expect);
    const pid = child.pid!;
    if (tool === 'callgrind') callgrindControl(pid, '--instr=on');
    const tracer = tool === 'strace' ? await attachStrace(pid, join(dir, 'strace.txt')) : undefined;
    const outBefore = out.length;
    const startUs = Number(process.hrtime.bigint() / 1000n);
    await load(url, headers, bodies, requests, concurrency, expect);
    const endUs = Number(process.hrtime.bigint() / 1000n);
    if (tool === 'callgrind') callgrindControl(pid, '--instr=off');
    if (tracer) await tracer.detach();
    // `--trace-gc` lines (`[pid:0x…]   123 ms: Scavenge …`, `Mark-Compact …`) printed during the measured requests.
    const collections = out.slice(outBefore).split('\n').filter((line) => /^\[\d+:0x[0-9a-f]+\]/.test(line));
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    if (tool === 'cpu-prof') {
      const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))!;
      const profile = formatProfile(summariseProfile(join(dir, file), [{ startUs, endUs }], requests, 40), requests);
      return { scenario, tokens, requests, concurrency, instructions: NaN, perRequest: NaN, profile };
    }
    if (tool === 'strace') {
      const profile = readFileSync(join(dir, 'strace.txt'), 'utf8');
      const count = Number(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)(?:\s+\d+)?\s+total$/m.exec(profile)?.[1] ?? NaN);
      return { scenario, tokens, requests, concurrency, instructions: NaN, perRequest: NaN, profile: `${profile}system calls per request: ${(count / requests).toFixed(2)}${gcSummary(collections)}` };
    }
    const outFile = readdirSync(dir).find((name) => name.startsWith('callgrind.out'))!;
    if (keep) copyFileSync(join(dir, outFile), keep);
    const text = readFileSync(join(dir, outFile), 'utf8');
    // `totals:` sums every dump part; the header's `summary:` may be that of an empty first part.
    const totals = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
    if (!totals) throw new Error('callgrind wrote no totals');
    const instructions = Number(totals[1]);
    return { scenario, tokens, requests, concurrency, instructions, perRequest: Math.round(instructions / requests) };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/lib-instructions.ts cc | introspect [tokens] [requests] [--cpu-prof | --strace] [--concurrency=16] [--keep=<callgrind output file>] [--node-flag=<V8 flag for the server>]…`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [scenario, tokens = '1', requests = '2000'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (scenario !== 'cc' && scenario !== 'introspect') throw new Error('usage: node bench/lib-instructions.ts cc|introspect [tokens] [requests] [--cpu-prof]');
  const tool = process.argv.includes('--cpu-prof') ? 'cpu-prof' : process.argv.includes('--strace') ? 'strace' : 'callgrind';
  const concurrency = Number(/^--concurrency=(\d+)$/.exec(process.argv.find((arg) => arg.startsWith('--concurrency=')) ?? '')?.[1] ?? 16);
  const nodeFlags = process.argv.filter((arg) => arg.startsWith('--node-flag=')).map((arg) => arg.slice('--node-flag='.length));
  const keep = process.argv.find((arg) => arg.startsWith('--keep='))?.slice('--keep='.length);
  const { profile, ...result } = await countInstructions({ scenario, tokens: Number(tokens), requests: Number(requests), tool, concurrency, ...(tool === 'cpu-prof' ? { warmup: 20_000 } : {}), ...(keep ? { keep } : {}), nodeFlags });
  process.stdout.write(`${profile ?? JSON.stringify(result)}\n`);
}
