import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/processes.ts';

/**
 * The MCP conformance suite (@modelcontextprotocol/conformance, `client` mode) drives the SDK's MCP client provider
 * (`@mandate/sdk/mcp/client`) through `test/interop/conformance-client.ts`: the suite plays the MCP server and the
 * authorization server (and checks what the client sends them), for every client authorization scenario at the
 * default spec version (2025-11-25, stateful wire) and again at 2026-07-28 (stateless wire), the 2026-07-28-only
 * scenarios, the client-credentials extension, the DPoP extension (the provider's `dpop` option, its `fetch` on the transport),
 * enterprise-managed authorization (SEP-990: ID-JAG from the suite's IdP, then `jwt-bearer`) and workload identity
 * federation (SEP-1933: `jwt-bearer` with the workload's JWT). MCP 2025-03-26's fallbacks (no protected resource
 * metadata) are refused on purpose (MCP-RS-01, MCP-C-05); those scenarios are not run here.
 */
const CONFORMANCE = `${REPO_ROOT}node_modules/@modelcontextprotocol/conformance/dist/index.js`;
const CLIENT = `${process.execPath} ${REPO_ROOT}test/interop/conformance-client.ts`;
/** A hung run is killed after this; a healthy one takes seconds, even on a loaded machine. */
const RUN_TIMEOUT_MS = 240_000;

/** 2026-07-28 scenarios outside `--suite auth`, and the client-credentials, DPoP, ID-JAG and WIF extensions; each runs on its own version. */
const SINGLE_SCENARIOS = [
  'auth/resource-mismatch',
  'auth/offline-access-scope',
  'auth/offline-access-not-supported',
  'auth/authorization-server-migration',
  'auth/iss-supported',
  'auth/iss-not-advertised',
  'auth/iss-supported-missing',
  'auth/iss-wrong-issuer',
  'auth/iss-unexpected',
  'auth/iss-normalized',
  'auth/metadata-issuer-mismatch',
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/dpop',
  'auth/dpop-nonce',
  'auth/enterprise-managed-authorization',
  'auth/wif-jwt-bearer',
];

/** The 14 scenarios of `--suite auth` in 0.2.0-alpha.12, at either version. */
const AUTH_SUITE = [
  'auth/metadata-default',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/basic-cimd',
  'auth/scope-from-www-authenticate',
  'auth/scope-from-scopes-supported',
  'auth/scope-omitted-when-undefined',
  'auth/scope-step-up',
  'auth/scope-retry-limit',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-post',
  'auth/token-endpoint-auth-none',
  'auth/pre-registration',
];

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  description?: string;
  errorMessage?: string;
}

interface Run {
  exitCode: number | null;
  output: string;
  /** checks.json of each scenario, by scenario id (`auth/…`). */
  scenarios: Map<string, Check[]>;
}

/** Runs `conformance client` with `args`, writing its results under a fresh directory, and reads them back. */
function runSuite(args: string[]): Promise<Run> {
  const outputDir = mkdtempSync(join(tmpdir(), 'mandate-mcp-conformance-client-'));
  return new Promise((resolve, reject) => {
    // --timeout: a scenario's own limit (30 s by default) is short for a loaded machine; a healthy one needs a second.
    const child = spawn(process.execPath, [CONFORMANCE, 'client', '--command', CLIENT, '--timeout', String(RUN_TIMEOUT_MS / 2), '-o', outputDir, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      try {
        resolve({ exitCode, output, scenarios: readScenarios(outputDir) });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(outputDir, { recursive: true, force: true });
      }
    });
  });
}

/** `DIR/auth/<name>-<ISO timestamp>/checks.json` per scenario. */
function readScenarios(outputDir: string): Map<string, Check[]> {
  const scenarios = new Map<string, Check[]>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (!statSync(path).isDirectory()) continue;
      const match = /^(.*)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
      if (match) scenarios.set(`${prefix}${match[1]}`, JSON.parse(readFileSync(join(path, 'checks.json'), 'utf8')) as Check[]);
      else walk(path, `${prefix}${entry}/`);
    }
  };
  walk(outputDir, '');
  return scenarios;
}

/** Every check of every scenario is SUCCESS or INFO: no FAILURE, and no WARNING (a SHOULD the client missed). */
function assertClean(run: Run, expected: readonly string[]): void {
  assert.deepEqual([...run.scenarios.keys()].sort(), [...expected].sort(), run.output);
  for (const [scenario, checks] of run.scenarios) {
    assert.ok(checks.length > 0, scenario);
    const bad = checks.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO').map((c) => `${c.id} ${c.status}: ${c.errorMessage ?? c.description ?? ''}`);
    assert.deepEqual(bad, [], `${scenario}: ${bad.join('; ')}\n${run.output.slice(-4000)}`);
  }
}

const statusOf = (run: Run, scenario: string, id: string) => run.scenarios.get(scenario)?.find((c) => c.id === id)?.status;

describe('interop: MCP conformance suite (client mode) against the SDK’s MCP client provider', () => {
  let stateful: Run;
  let stateless: Run;
  let singles: Map<string, Check[]>;
  let singleOutput: string;

  before(async () => {
    // The suite runs a set's scenarios in parallel, each with its own mocks on port 0; the single scenarios run
    // four at a time, so that the machine is not asked to start dozens of processes at once.
    [stateful, stateless] = await Promise.all([runSuite(['--suite', 'auth']), runSuite(['--suite', 'auth', '--spec-version', '2026-07-28'])]);
    singles = new Map();
    singleOutput = '';
    for (let i = 0; i < SINGLE_SCENARIOS.length; i += 4) {
      for (const run of await Promise.all(SINGLE_SCENARIOS.slice(i, i + 4).map((scenario) => runSuite(['--scenario', scenario])))) {
        singleOutput += run.output;
        for (const [scenario, checks] of run.scenarios) singles.set(scenario, checks);
      }
    }
  });

  test('MCP-C-01..08 --suite auth at the default version (2025-11-25): all 14 scenarios pass with no warning; exit 0', () => {
    assertClean(stateful, AUTH_SUITE);
    assert.equal(stateful.exitCode, 0, stateful.output);
  });

  test('MCP-C-01..08 --suite auth --spec-version 2026-07-28 (stateless wire): all 14 scenarios pass with no warning; exit 0', () => {
    assertClean(stateless, AUTH_SUITE);
    assert.equal(stateless.exitCode, 0, stateless.output);
  });

  test('2026-07-28 scenarios (resource mismatch, offline access, AS migration, RFC 9207 iss, metadata issuer), client credentials, DPoP, enterprise-managed (ID-JAG) and WIF jwt-bearer pass', () => {
    assertClean({ exitCode: 0, output: singleOutput, scenarios: singles }, SINGLE_SCENARIOS);
  });

  test('the checks that carry the requirements: step-up keeps what was granted, CIMD, auth methods, iss, migration, resource', () => {
    assert.equal(statusOf(stateless, 'auth/scope-step-up', 'sep-2350-scope-union-on-reauth'), 'SUCCESS');
    assert.equal(statusOf(stateful, 'auth/scope-step-up', 'scope-step-up-escalation'), 'SUCCESS');
    assert.equal(statusOf(stateful, 'auth/scope-retry-limit', 'scope-retry-limit'), 'SUCCESS');
    assert.equal(statusOf(stateful, 'auth/basic-cimd', 'cimd-client-id-used'), 'SUCCESS');
    assert.equal(statusOf(stateless, 'auth/metadata-default', 'sep-837-application-type-present'), 'SUCCESS');
    for (const scenario of ['auth/token-endpoint-auth-basic', 'auth/token-endpoint-auth-post', 'auth/token-endpoint-auth-none']) {
      assert.equal(statusOf(stateful, scenario, 'token-endpoint-auth-method'), 'SUCCESS', scenario);
    }
    assert.equal(statusOf(stateful, 'auth/metadata-var2', 'resource-parameter-matches-prm'), 'SUCCESS');
    assert.equal(statusOf(stateful, 'auth/pre-registration', 'pre-registration-auth'), 'SUCCESS');
    const single = (scenario: string, id: string) => singles.get(scenario)?.find((c) => c.id === id)?.status;
    assert.equal(single('auth/resource-mismatch', 'resource-mismatch-rejected'), 'SUCCESS');
    assert.equal(single('auth/offline-access-scope', 'sep-2207-offline-access-requested'), 'SUCCESS');
    assert.equal(single('auth/offline-access-not-supported', 'sep-2207-offline-access-not-requested'), 'SUCCESS');
    assert.equal(single('auth/authorization-server-migration', 'sep-2352-reregister-on-as-change'), 'SUCCESS');
    assert.equal(single('auth/iss-wrong-issuer', 'sep-2468-client-compare-iss-supported'), 'SUCCESS');
    assert.equal(single('auth/iss-supported-missing', 'sep-2468-client-reject-missing-iss'), 'SUCCESS');
    assert.equal(single('auth/metadata-issuer-mismatch', 'sep-2468-client-validate-metadata-issuer'), 'SUCCESS');
    assert.equal(single('auth/client-credentials-jwt', 'client-credentials-jwt-verified'), 'SUCCESS');
    assert.equal(single('auth/enterprise-managed-authorization', 'complete-flow-token-exchange'), 'SUCCESS');
    assert.equal(single('auth/enterprise-managed-authorization', 'complete-flow-jwt-bearer'), 'SUCCESS');
    assert.equal(single('auth/wif-jwt-bearer', 'wif-assertion-verified'), 'SUCCESS');
    for (const id of ['sep-1932-client-token-request-proof', 'sep-1932-client-dpop-auth-scheme', 'sep-1932-client-fresh-proof']) {
      assert.equal(single('auth/dpop', id), 'SUCCESS', id);
    }
    for (const id of ['sep-1932-client-as-nonce', 'sep-1932-client-rs-nonce']) assert.equal(single('auth/dpop-nonce', id), 'SUCCESS', id);
  });
});
