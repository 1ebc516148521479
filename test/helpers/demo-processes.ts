import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './processes.ts';

/** The demo MCP server, the demo agent and `npm start` as separate processes, for the end-to-end tests. */

export const MCP_SERVER_MAIN = `${REPO_ROOT}examples/mcp-server/src/main.ts`;
export const AGENT_MAIN = `${REPO_ROOT}examples/agent/src/main.ts`;
export const START_SCRIPT = `${REPO_ROOT}scripts/start.ts`;

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** SIGTERM (or `signal`) and wait for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node <args>` and resolves once a line of its stdout matches `ready` (rejects if it exits or times out first). */
export function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunningProcess & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { env, cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: RunningProcess = {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  child.stderr!.on('data', (d) => (output += d));
  let isReady = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not get ready in time:\n${output}`));
    }, options.timeoutMs ?? 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const match = isReady ? null : ready.exec(line);
      if (match) {
        isReady = true;
        clearTimeout(timer);
        resolve({ ...running, match });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${args.join(' ')} exited ${code} before it was ready:\n${output}`));
    });
  });
}

export interface McpServerProcess extends RunningProcess {
  resource: string;
}

/** `node examples/mcp-server/src/main.ts` with the given environment (MANDATE_ISSUER, MCP_PORT, MCP_VERIFY, …). */
export async function startMcpServerProcess(env: NodeJS.ProcessEnv): Promise<McpServerProcess> {
  const started = await startProcess([MCP_SERVER_MAIN], env, /^Demo MCP server on (\S+)/);
  return { ...started, resource: started.match[1]! };
}

export type AgentEvent = { event: string } & Record<string, unknown>;

/** Runs the demo agent to completion with `--json`; resolves with its exit code and events. */
export function runAgent(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; events: AgentEvent[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_MAIN, ...args, '--json'], { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const events = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AgentEvent);
        resolve({ code, events, stderr });
      } catch {
        reject(new Error(`the agent printed something that is not JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

export interface InteractiveAgent {
  /** Sends one tool call (`--mode stdin`) and resolves with the events up to and including its `step`. */
  call(tool: string, args?: Record<string, unknown>): Promise<AgentEvent[]>;
  /** Closes its stdin and waits for it to finish. */
  end(): Promise<number | null>;
}

/** The demo agent in `--mode stdin --json`, ready for calls once it has connected. */
export async function startInteractiveAgent(args: string[], env: NodeJS.ProcessEnv): Promise<InteractiveAgent> {
  const child = spawn(process.execPath, [AGENT_MAIN, ...args, '--mode', 'stdin', '--json'], { env, cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pending: AgentEvent[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    pending.push(JSON.parse(line) as AgentEvent);
    wake?.();
  });
  void exited.then(() => wake?.());

  /** Events until one named `last` (inclusive). */
  async function until(last: string): Promise<AgentEvent[]> {
    const seen: AgentEvent[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      while (pending.length > 0) {
        const event = pending.shift()!;
        seen.push(event);
        if (event.event === last) return seen;
        if (event.event === 'error') throw new Error(`agent error: ${JSON.stringify(event)}\n${stderr}`);
      }
      if (child.exitCode !== null) throw new Error(`the agent exited ${child.exitCode} while waiting for ${last}: ${JSON.stringify(seen)}\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${last} event in time: ${JSON.stringify(seen)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  await until('ready');
  return {
    async call(tool, callArgs = {}) {
      child.stdin.write(`${JSON.stringify({ tool, arguments: callArgs })}\n`);
      return until('step');
    },
    async end() {
      child.stdin.end();
      return exited;
    },
  };
}

/** Polls `url` until it answers (any status), for processes that print nothing when ready. */
export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
