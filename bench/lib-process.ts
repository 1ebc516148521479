import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A server under test, in a process of its own. */
export interface ServerProcess {
  readonly pid: number;
  /** Base URL the server printed when it was ready. */
  readonly url: string;
  /** CPU seconds (user + system, all threads) the process has used so far. */
  cpuSeconds(): number;
  /** Resident set size now, bytes (VmRSS); with several instances, their sum. */
  rssBytes(): number;
  /** SIGTERM, then waits for exit (a `--cpu-prof` profile is written on the way out). */
  stop(): Promise<void>;
}

export interface SpawnServer {
  label: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Core to pin every thread to, or null. Threads inherit the affinity, so libuv's pool and GC helpers stay there too. */
  core: number | null;
  /** Finds the base URL in a line of the server's stdout. */
  readyUrl(line: string): string | undefined;
  /** A command the server runs under (e.g. valgrind and its options), before node; and how long it may take to start. */
  wrapper?: readonly string[];
  readyTimeoutMs?: number;
}

export const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process, in seconds; /proc/<pid>/stat sums all its threads. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** VmRSS of a process, bytes (0 once it has exited). */
export function processRssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function startServerProcess(spec: SpawnServer): Promise<ServerProcess> {
  const node = [...(spec.wrapper ?? []), process.execPath];
  const [command, args] = spec.core === null ? [node[0]!, [...node.slice(1), ...spec.args]] : ['taskset', ['-c', String(spec.core), ...node, ...spec.args]];
  const child: ChildProcess = spawn(command, args, { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the harness dies (an error, a closed pipe), the server must not live on, pinned to its core.
  const killOrphan = () => child.kill('SIGKILL');
  process.once('exit', killOrphan);
  child.once('exit', () => process.off('exit', killOrphan));

  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.label} did not start: ${why}\n${log}`));
    };
    const timeoutMs = spec.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs / 1000} s`), timeoutMs);
    const onEarlyExit = (code: number | null) => fail(`exited with ${code}`);
    child.once('exit', onEarlyExit);
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      for (const line of log.split('\n')) {
        const url = spec.readyUrl(line);
        if (!url) continue;
        clearTimeout(timer);
        child.off('exit', onEarlyExit);
        // Keep draining the pipes so a chatty server never blocks on a full one.
        child.stdout!.removeAllListeners('data').resume();
        child.stderr!.removeAllListeners('data').on('data', (c: Buffer) => process.stderr.write(`[${spec.label}] ${c}`));
        const pid = child.pid!;
        resolve({
          pid,
          url,
          cpuSeconds: () => processCpuSeconds(pid),
          rssBytes: () => processRssBytes(pid),
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
        return;
      }
    });
  });
}
