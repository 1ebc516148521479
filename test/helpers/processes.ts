import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** Cross-package tests drive the real CLI and server as separate processes, as an operator would. */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The `mandate` command as installed (`npx mandate`): its launcher runs the TypeScript from the stripped cache. */
export const CLI = `${REPO_ROOT}packages/server/bin/mandate.js`;

/**
 * How long a child process may take to announce it is ready (or a run to finish) before the test gives up on it.
 * Readiness is always a signal (a printed line, a port answering), so a healthy run never waits for this limit: it is
 * generous because two test runs on two cores can slow a start-up tenfold, and only a hung process should meet it.
 */
export const PROCESS_TIMEOUT_MS = 120_000;

export interface ServerProcess {
  issuer: string;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Environment for one server and the CLI commands that share its database and KEK. */
export function mandateEnv(databaseUrl: string): NodeJS.ProcessEnv {
  return { ...process.env, MANDATE_DATABASE_URL: databaseUrl, MANDATE_KEK: randomBytes(32).toString('base64url'), MANDATE_LOG_LEVEL: 'warn' };
}

/** Runs `mandate <args>` and resolves with its stdout; rejects with stderr on a non-zero exit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`mandate ${args.join(' ')} exited ${code}: ${stderr}`))));
    child.stdin.end(stdin ?? '');
  });
}

export async function runCliJson<T>(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<T> {
  return JSON.parse(await runCli([...args, '--json'], env, stdin)) as T;
}

/**
 * Starts `mandate serve` on `port` and waits until it announces itself (killed if it does not within PROCESS_TIMEOUT_MS).
 * `nodeArgs` go to Node before the command (a preload, say).
 */
export function startServerProcess(port: number, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mandate serve did not announce itself within ${PROCESS_TIMEOUT_MS / 1000} s:\n${output}`));
    }, PROCESS_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Mandate authorization server on (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({
          issuer: match[1]!,
          child,
          env,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mandate serve exited ${code}: ${output}`));
    });
  });
}
