import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DpopProver } from '../packages/sdk/src/dpop/prover.ts';
import { redeem, startMandateWithApp, type WithApp } from './lib-app.ts';
import { authorizationQuery, mandateSignInAndConsent, PKCE_VERIFIER } from './lib-browser.ts';
import { startTwoHop } from './lib-exchange.ts';
import { APP_REDIRECT_URI, basicAuthorization, CLIENT_CREDENTIALS_BODY, FORM_CONTENT_TYPE, REQUESTED_SCOPE } from './lib-fixture.ts';
import { parseBenchOptions } from './lib-options.ts';
import { formatProfile, summariseProfile } from './lib-profile.ts';

/**
 * Instructions per unit of work (callgrind) or a CPU profile of the measured part (`--cpu-prof`) for the flows
 * lib-instructions.ts does not drive: the two-hop token exchange (bearer, and with a fresh DPoP proof per request),
 * refresh with rotation, and the full code flow (authorize with the session cookie and remembered consent → token).
 * The fixtures are the benchmarks' own (lib-exchange.ts, lib-app.ts), so the work per request is theirs; the server
 * runs under valgrind with instrumentation off through the setup and `warmup` units, on for `units`, then off.
 * SQLite only: on PostgreSQL most of the cost would be in backends callgrind does not see.
 */

export type FlowScenario = 'cc' | 'exchange' | 'exchange-dpop' | 'refresh' | 'code';
export const FLOW_SCENARIOS: readonly FlowScenario[] = ['cc', 'exchange', 'exchange-dpop', 'refresh', 'code'];

interface Reply {
  status: number;
  location: string | undefined;
  text: string;
}

function send(agent: Agent, origin: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, origin), { method, agent, headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expect(reply: Reply, status: number, contains: string, what: string): Reply {
  if (reply.status !== status || !reply.text.includes(contains)) throw new Error(`${what} answered ${reply.status}: ${reply.text.slice(0, 300)}`);
  return reply;
}

/** One unit of work for a worker (a connection's turn): resolves when its last response was checked. */
type Unit = (worker: number) => Promise<void>;

interface Prepared {
  app: WithApp;
  unit: Unit;
  /** Requests per unit (2 for a code flow). */
  requestsPerUnit: number;
}

const withOffline = `${REQUESTED_SCOPE} offline_access`;

async function prepare(scenario: FlowScenario, app: WithApp, agent: Agent, concurrency: number, extra: { authorization?: string; body?: string; renew?: () => Promise<string> }): Promise<Prepared> {
  const { origin, tokenPath, authorizationPath, tokenEndpoint } = app.endpoints;
  const form = { 'content-type': FORM_CONTENT_TYPE };
  switch (scenario) {
    case 'cc': {
      const headers = { ...form, authorization: basicAuthorization(app.mandate!.clientId, app.mandate!.clientSecret) };
      return { app, requestsPerUnit: 1, unit: async () => void expect(await send(agent, origin, 'POST', tokenPath, headers, CLIENT_CREDENTIALS_BODY), 200, '"access_token":"', 'cc') };
    }
    case 'exchange':
    case 'exchange-dpop': {
      const headers = { ...form, authorization: extra.authorization! };
      // B's actor token and A's hand-off live 300 s at most (client-credentials.ts; a child never outlives its actor
      // token), less than valgrind takes for a run: they are renewed every 120 s, as the agents would before they
      // expire (a few requests and signature checks per run, counted with the rest).
      let body = extra.body!;
      let renewedAt = Date.now();
      let renewing: Promise<void> | null = null;
      const renew = async () => {
        body = await extra.renew!();
        renewedAt = Date.now();
      };
      const fresh = async () => {
        if (Date.now() - renewedAt > 120_000) await (renewing ??= renew().finally(() => (renewing = null)));
        return body;
      };
      if (scenario === 'exchange') {
        return { app, requestsPerUnit: 1, unit: async () => void expect(await send(agent, origin, 'POST', tokenPath, headers, await fresh()), 200, '"token_type":"Bearer"', 'exchange') };
      }
      const prover = DpopProver.generate('ES256');
      // The proof is made by this process (not counted), fresh per request: each is single-use.
      return {
        app,
        requestsPerUnit: 1,
        unit: async () => {
          const form = await fresh();
          expect(await send(agent, origin, 'POST', tokenPath, { ...headers, dpop: prover.proof('POST', tokenEndpoint) }, form), 200, '"token_type":"DPoP"', 'exchange with DPoP');
        },
      };
    }
    case 'refresh':
    case 'code': {
      const query = authorizationQuery(app.appId, scenario === 'refresh' ? withOffline : REQUESTED_SCOPE);
      await redeem(app, await mandateSignInAndConsent(app.browser, authorizationPath, query));
      const cookie = { cookie: app.browser.cookieHeader() };
      const tokenHeaders = { ...form, authorization: app.appAuthorization };
      const redeemBody = `grant_type=authorization_code&code_verifier=${PKCE_VERIFIER}&redirect_uri=${encodeURIComponent(APP_REDIRECT_URI)}&code=`;
      const codeFlow = async () => {
        const authorized = await send(agent, origin, 'GET', `${authorizationPath}?${query}`, cookie);
        const code = authorized.status === 302 && authorized.location ? new URL(authorized.location).searchParams.get('code') : null;
        if (!code) throw new Error(`authorize answered ${authorized.status} ${authorized.location ?? authorized.text.slice(0, 200)}`);
        return JSON.parse(expect(await send(agent, origin, 'POST', tokenPath, tokenHeaders, redeemBody + code), 200, '"access_token":"', 'code redemption').text) as Record<string, string>;
      };
      if (scenario === 'code') return { app, requestsPerUnit: 2, unit: async () => void (await codeFlow()) };
      // Refresh: each worker rotates its own token; the old one is never presented again (no reuse detection fires).
      const tokens: string[] = [];
      for (let i = 0; i < concurrency; i++) tokens.push((await codeFlow())['refresh_token']!);
      return {
        app,
        requestsPerUnit: 1,
        unit: async (worker) => {
          const reply = expect(await send(agent, origin, 'POST', tokenPath, tokenHeaders, `grant_type=refresh_token&refresh_token=${encodeURIComponent(tokens[worker]!)}`), 200, '"refresh_token":"', 'refresh');
          tokens[worker] = (JSON.parse(reply.text) as Record<string, string>)['refresh_token']!;
        },
      };
    }
  }
}

async function run(unit: Unit, count: number, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        next++;
        await unit(worker);
      }
    }),
  );
}

export interface FlowInstructionOptions {
  scenario: FlowScenario;
  warmup?: number;
  units?: number;
  concurrency?: number;
  /** `syscalls`: no valgrind; `strace -f -c` attached for the measured units (fsyncs and writes per unit: WAL commits and checkpoints). */
  tool?: 'callgrind' | 'cpu-prof' | 'syscalls';
  /** Where to keep callgrind's output (for callgrind_annotate: native frames, i.e. SQLite, OpenSSL, V8's runtime). */
  keep?: string;
}

export interface FlowInstructionCount {
  scenario: FlowScenario;
  units: number;
  requestsPerUnit: number;
  concurrency: number;
  instructions: number;
  perUnit: number;
  profile?: string;
}

/** Attaches `strace -f -c` to `pid`; resolves once it is attached, with a function that stops it and returns its table. */
async function attachStrace(pid: number, out: string): Promise<() => Promise<string>> {
  const child = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync,pwrite64,write,writev', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk;
      if (/attached/.test(err)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`strace exited (${code}): ${err}`)));
  });
  return async () => {
    child.kill('SIGINT');
    await exited;
    return readFileSync(out, 'utf8');
  };
}

export async function countFlowInstructions(options: FlowInstructionOptions): Promise<FlowInstructionCount> {
  const { scenario, warmup = 2000, units = 1000, concurrency = 16, tool = 'callgrind' } = options;
  // Under valgrind the setup and warm-up take minutes: the tokens the load reuses (actor and subject tokens of the
  // exchange) must outlive them. A lifetime is a number in the claims; it changes no work per request.
  process.env['MANDATE_ACCESS_TOKEN_TTL'] ??= '86400';
  // Work done per second rather than per request (the revocation-event poller and the resource-key grace timer, the
  // signing keys' reload) counts in proportion to how long valgrind takes, which the machine's load decides: once a
  // minute, it hardly counts (as in lib-instructions.ts).
  process.env['MANDATE_REVOCATION_EVENTS_POLL_MS'] ??= '60000';
  const dir = mkdtempSync(join(tmpdir(), 'mandate-flow-callgrind-'));
  const out = join(dir, 'callgrind.out');
  const wrapper = tool === 'callgrind' ? ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`] : undefined;
  const ctx = {
    options: parseBenchOptions(`flow-instructions ${scenario}`, ['--unpinned']),
    core: null,
    profileDir: tool === 'cpu-prof' ? dir : null,
    ...(wrapper ? { wrapper } : {}),
  };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let app: WithApp | undefined;
  try {
    let extra: { authorization?: string; body?: string; renew?: () => Promise<string> } = {};
    if (scenario === 'exchange' || scenario === 'exchange-dpop') {
      const hop = await startTwoHop(ctx);
      app = hop.app;
      extra = { authorization: hop.authorization, body: hop.body, renew: hop.renew };
    } else {
      app = await startMandateWithApp(ctx);
    }
    const prepared = await prepare(scenario, app, agent, concurrency, extra);
    await run(prepared.unit, warmup, concurrency);
    const pid = app.server.pid;
    if (tool === 'callgrind') execFileSync('callgrind_control', ['--instr=on', String(pid)], { stdio: 'ignore' });
    const stopStrace = tool === 'syscalls' ? await attachStrace(pid, join(dir, 'strace.txt')) : null;
    const startUs = Number(process.hrtime.bigint() / 1000n);
    await run(prepared.unit, units, concurrency);
    const syscalls = stopStrace ? await stopStrace() : null;
    const endUs = Number(process.hrtime.bigint() / 1000n);
    if (tool === 'callgrind') execFileSync('callgrind_control', ['--instr=off', String(pid)], { stdio: 'ignore' });
    agent.destroy();
    await app.close();
    app = undefined;
    const base = { scenario, units, requestsPerUnit: prepared.requestsPerUnit, concurrency };
    if (syscalls !== null) return { ...base, instructions: NaN, perUnit: NaN, profile: syscalls };
    if (tool === 'cpu-prof') {
      const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))!;
      const profile = formatProfile(summariseProfile(join(dir, file), [{ startUs, endUs }], units, 40), units);
      return { ...base, instructions: NaN, perUnit: NaN, profile };
    }
    const outFile = readdirSync(dir).filter((name) => name.startsWith('callgrind.out')).map((name) => join(dir, name))[0]!;
    if (options.keep) copyFileSync(outFile, options.keep);
    const text = readFileSync(outFile, 'utf8');
    const totals = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
    if (!totals) throw new Error('callgrind wrote no totals');
    const instructions = Number(totals[1]);
    return { ...base, instructions, perUnit: Math.round(instructions / units) };
  } finally {
    agent.destroy();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/lib-flow-instructions.ts cc|exchange|exchange-dpop|refresh|code [units] [--warmup=n] [--cpu-prof | --syscalls] [--concurrency=16] [--keep=<callgrind.out>]`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [scenario, units = '1000'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (!FLOW_SCENARIOS.includes(scenario as FlowScenario)) throw new Error(`usage: node bench/lib-flow-instructions.ts ${FLOW_SCENARIOS.join('|')} [units] [--warmup=n] [--cpu-prof] [--concurrency=n]`);
  const flag = (name: string) => /=(\d+)$/.exec(process.argv.find((arg) => arg.startsWith(`--${name}=`)) ?? '')?.[1];
  const tool = process.argv.includes('--cpu-prof') ? 'cpu-prof' : process.argv.includes('--syscalls') ? 'syscalls' : 'callgrind';
  const { profile, ...result } = await countFlowInstructions({
    scenario: scenario as FlowScenario,
    units: Number(units),
    warmup: Number(flag('warmup') ?? (tool === 'cpu-prof' ? 5000 : 2000)),
    concurrency: Number(flag('concurrency') ?? 16),
    tool,
    ...(process.argv.find((arg) => arg.startsWith('--keep=')) ? { keep: process.argv.find((arg) => arg.startsWith('--keep='))!.slice('--keep='.length) } : {}),
  });
  process.stdout.write(`${profile ? `${profile}\n` : ''}${JSON.stringify(result)}\n`);
}
