import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConfigOverrides } from '../../src/config.ts';
import { httpCalls, type TestServer } from './server.ts';
import type { StoreFixture } from './stores.ts';

/**
 * A test server in a process of its own, for tests of several instances sharing one database (SR-08): nothing but
 * the database connects it to the servers of the test's process. Its frozen clock moves when the test says so.
 */
export interface ServerProcess extends Pick<TestServer, 'issuer' | 'adminToken' | 'postForm' | 'admin'> {
  clock: { now(): number; advance(seconds: number): Promise<void> };
  close(): Promise<void>;
}

/** What the child reports when it is ready and after each move of its clock. */
export interface ServerProcessReport {
  issuer: string;
  adminToken: string;
  now: number;
}

const childEntry = fileURLToPath(new URL('./server-process-child.ts', import.meta.url));

/** The child's next report, or its exit as an error. */
function nextReport(child: ChildProcess): Promise<ServerProcessReport> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the server process exited (${code}) before it answered`));
    child.once('exit', onExit);
    child.once('message', (report) => {
      child.off('exit', onExit);
      resolve(report as ServerProcessReport);
    });
  });
}

/** Starts a test server (helpers/server.ts) over the fixture's database in a child process; ready when it reports. */
export async function startServerProcess(fixture: Pick<StoreFixture, 'url'>, overrides: ConfigOverrides = {}): Promise<ServerProcess> {
  const child = fork(childEntry, [fixture.url, JSON.stringify(overrides)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let report = await nextReport(child);
  return {
    issuer: report.issuer,
    adminToken: report.adminToken,
    ...httpCalls(report.issuer, report.adminToken),
    clock: {
      now: () => report.now,
      async advance(seconds: number) {
        const moved = nextReport(child);
        child.send({ advance: seconds });
        report = await moved;
      },
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ close: true });
      await exited;
    },
  };
}
