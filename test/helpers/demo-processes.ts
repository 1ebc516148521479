import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PROCESS_TIMEOUT_MS, REPO_ROOT } from './processes.ts';

/** The demo MCP server, the demo agent and `npm start` as separate processes, for the end-to-end tests. */

export const MCP_SERVER_MAIN = `${REPO_ROOT}examples/mcp-server/src/main.ts`;
export const AGENT_MAIN = `${REPO_ROOT}examples/agent/src/main.ts`;
export const START_SCRIPT = `${REPO_ROOT}scripts/start.ts`;

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code once it has exited by itself and all its output has been read. */
  exited(): Promise<number | null>;
  /** SIGTERM (or `signal`) and wait for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns `node <args>` and resolves once a line of its stdout matches `ready`; rejects if it exits first, or kills it
 * and rejects if it has not printed the line within `timeoutMs` (default PROCESS_TIMEOUT_MS).
 */
export function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunningProcess & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { env, cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // 'close' (not 'exit'): it comes after the last line of output, so a ready line printed just before exiting counts.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const running: RunningProcess = {
    child,
    output: () => output,
    exited: () => exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  child.stderr!.on('data', (d) => (output += d));
  let isReady = false;
  const timeoutMs = options.timeoutMs ?? PROCESS_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not get ready within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
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
  // 'close' (not 'exit'): it comes after the last line of stdout, so no event printed before exiting is missed.
  let closed = false;
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const pending: AgentEvent[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    pending.push(JSON.parse(line) as AgentEvent);
    wake?.();
  });
  void exited.then(() => {
    closed = true;
    wake?.();
  });

  /** Events until one named `last` (inclusive): woken by each line and by the exit; PROCESS_TIMEOUT_MS is only a limit. */
  async function until(last: string): Promise<AgentEvent[]> {
    const seen: AgentEvent[] = [];
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      wake?.();
    }, PROCESS_TIMEOUT_MS);
    try {
      for (;;) {
        while (pending.length > 0) {
          const event = pending.shift()!;
          seen.push(event);
          if (event.event === last) return seen;
          if (event.event === 'error') throw new Error(`agent error: ${JSON.stringify(event)}\n${stderr}`);
        }
        if (closed) throw new Error(`the agent exited ${child.exitCode} while waiting for ${last}: ${JSON.stringify(seen)}\n${stderr}`);
        if (timedOut) throw new Error(`no ${last} event within ${PROCESS_TIMEOUT_MS / 1000} s: ${JSON.stringify(seen)}\n${stderr}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      clearTimeout(limit);
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

/**
 * Polls `url` until it answers (any status), for processes that print nothing when ready: the answer is the signal,
 * the 100 ms between attempts only spaces the polls, and `timeoutMs` is a limit a healthy start never meets.
 */
export async function waitForHttp(url: string, timeoutMs = PROCESS_TIMEOUT_MS): Promise<void> {
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
