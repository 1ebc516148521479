import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { mandateEnv, PROCESS_TIMEOUT_MS, REPO_ROOT, runCli, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/** The suite's CLI (`conformance`), pinned in the root package.json; run with this Node (it needs Node ≥ 22). */
const CONFORMANCE = `${REPO_ROOT}node_modules/@modelcontextprotocol/conformance/dist/index.js`;
/** A hung run is killed after this; a healthy one takes seconds (two scenarios), even on a loaded machine. */
const RUN_TIMEOUT_MS = 2 * PROCESS_TIMEOUT_MS;

type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
interface Check {
  id: string;
  status: CheckStatus;
  errorMessage?: string;
  details?: Record<string, unknown>;
}

interface ConformanceProcess {
  exitCode: number | null;
  /** stdout and stderr, for assertion messages. */
  output: string;
  /** Why signing in for the suite failed, if it did. */
  driveError?: unknown;
}

interface ConformanceRun extends ConformanceProcess {
  /** checks.json of each scenario, by scenario id. */
  scenarios: Map<string, Check[]>;
}

/** With `-o DIR` the suite writes `DIR/authorization-server-<scenario>-<ISO timestamp>/checks.json`. */
function readScenarios(outputDir: string): Map<string, Check[]> {
  const scenarios = new Map<string, Check[]>();
  for (const entry of readdirSync(outputDir)) {
    const scenario = entry.replace(/^authorization-server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
    scenarios.set(scenario, JSON.parse(readFileSync(join(outputDir, entry, 'checks.json'), 'utf8')) as Check[]);
  }
  return scenarios;
}

/**
 * The suite's loopback listener starts as it prints the URL; retry while it is not yet accepting connections (its
 * port answering is the signal; the 100 ms only spaces the attempts, and PROCESS_TIMEOUT_MS is a limit).
 */
async function deliverCallback(location: string): Promise<void> {
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(location);
      await response.body?.cancel();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/**
 * Runs `conformance authorization` and plays the browser: when it prints the authorization URL, `authorize` signs the
 * user in, consents, and delivers the redirect to the suite's callback listener. Killed after RUN_TIMEOUT_MS (the
 * suite itself would wait five minutes for a callback).
 */
function runConformance(args: string[], authorize: (url: string) => Promise<void>): Promise<ConformanceProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CONFORMANCE, 'authorization', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let driven = false;
    let driveError: unknown;
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      const url = /^https?:\/\/\S+[?&]response_type=code\S*$/m.exec(output)?.[0];
      if (url && !driven) {
        driven = true;
        authorize(url).catch((error: unknown) => {
          driveError = error;
          child.kill('SIGTERM');
        });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.once('error', reject);
    // 'close' rather than 'exit': the output is complete by then.
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output, driveError });
    });
  });
}

/**
 * The MCP conformance suite (@modelcontextprotocol/conformance, `authorization` mode) acts as an OAuth client against
 * `mandate serve` running as its own process: RFC 8414 metadata, then an authorization code grant with PKCE S256
 * and RFC 8707 `resource` for a public client registered with its loopback redirect URI. The user signs in and
 * consents through the real pages over HTTP, as a browser would.
 */
forEachStore('interop: MCP conformance suite (authorization)', (fixture) => {
  const resource = 'https://mcp.example.com/mcp';
  const email = 'ada@example.com';
  let server: ServerProcess;
  let outputDir: string;
  let run: ConformanceRun;

  before(async () => {
    const env = mandateEnv(fixture.url);
    const callbackPort = await freePort();
    await runCli(['user', 'create', '--email', email], env, `${PASSWORD}\n`);
    await runCliJson(['resource', 'create', '--uri', resource, '--scope', 'calc files:read'], env);
    const client = await runCliJson<{ client_id: string }>(
      ['client', 'create', '--name', 'MCP conformance', '--public', '--redirect-uri', `http://127.0.0.1:${callbackPort}/callback`, '--scope', 'calc files:read'],
      env,
    );
    server = await startServerProcess(await freePort(), env);
    outputDir = mkdtempSync(join(tmpdir(), 'mandate-mcp-conformance-'));
    const args = ['--url', server.issuer, '--client-id', client.client_id, '--port', String(callbackPort), '--resource', resource, '-o', outputDir];
    const result = await runConformance(args, async (url) => {
      const { location } = await signInAndConsent(url, { email });
      await deliverCallback(location);
    });
    if (result.driveError) throw new Error(`signing in for the suite failed: ${String(result.driveError)}\n${result.output}`);
    run = { ...result, scenarios: readScenarios(outputDir) };
  });
  after(async () => {
    await server?.stop();
    if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  });

  const statuses = (scenario: string) => (run.scenarios.get(scenario) ?? []).map((check) => [check.id, check.status, check.errorMessage ?? '']);

  test('MCP-AS-01 the suite exits 0: both scenarios ran and none has a FAILURE', () => {
    assert.equal(run.exitCode, 0, run.output);
    assert.deepEqual([...run.scenarios.keys()].sort(), ['authorization-code-grant', 'authorization-server-metadata-endpoint']);
    for (const [scenario, checks] of run.scenarios) {
      assert.ok(checks.length > 0, scenario);
      assert.deepEqual(checks.filter((check) => check.status === 'FAILURE'), [], scenario);
    }
  });

  test('ASM-01 MCP-AS-02 authorization-server-metadata: SUCCESS (issuer equals --url, code, S256), and CIMD support advertised: no warning', () => {
    assert.deepEqual(statuses('authorization-server-metadata-endpoint'), [
      ['authorization-server-metadata', 'SUCCESS', ''],
      ['authorization-server-metadata-cimd', 'SUCCESS', ''],
    ]);
  });

  test('MCP-AS-01 authorization-code-grant: SUCCESS for a public client with PKCE S256 and resource, after a real login and consent', () => {
    assert.deepEqual(statuses('authorization-code-grant'), [['authorization-code-grant', 'SUCCESS', '']]);
    const details = run.scenarios.get('authorization-code-grant')![0]!.details!;
    const body = details.body as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'calc files:read');
  });

  test('MCP-AS-04 the authorization response the suite received carries iss equal to our issuer', () => {
    const details = run.scenarios.get('authorization-code-grant')![0]!.details!;
    const callback = new URL(details.authorizationResponseUrl as string);
    assert.deepEqual(callback.searchParams.getAll('iss'), [server.issuer]);
  });
});
