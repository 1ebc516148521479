import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { sampleSandboxDir } from '../../examples/mcp-server/src/default-sandbox.ts';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { ensureDemoResource } from '../../scripts/demo-resource.ts';
import { type AgentEvent, type McpServerProcess, type RunningProcess, startMcpServerProcess, startProcess } from '../helpers/demo-processes.ts';
import { mandateEnv, PROCESS_TIMEOUT_MS, REPO_ROOT, runCli, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-results/obo-demo/', import.meta.url));
const DEMO = `${REPO_ROOT}scripts/demo-obo.ts`;
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';

/** The JSON events a demo process printed so far. */
const events = (demo: RunningProcess): AgentEvent[] =>
  demo
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as AgentEvent);

/**
 * `npm run demo:obo` end to end in a real browser (Debian Chromium driven by playwright-core): `mandate serve` and
 * the demo MCP server as processes (as `npm start` runs them), a user made with `mandate user create` (password on
 * stdin), and the demo itself as a process. The browser opens the login URL the demo prints, signs in, approves the
 * consent page that names the agent, and comes back to the demo's loopback redirect; the demo then calls `whoami`,
 * which names the user and the agent. A second run reuses the stored authorization without a browser.
 * Screenshots of the login, consent and callback pages go to test-results/obo-demo/.
 */
forEachStore('browser: npm run demo:obo', (fixture) => {
  let env: NodeJS.ProcessEnv;
  let as: ServerProcess;
  let mcp: McpServerProcess;
  let resource: string;
  let sandbox: string;
  let browser: Browser;
  let userId: string;

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    env = mandateEnv(fixture.url);
    sandbox = mkdtempSync(join(tmpdir(), 'mandate-obo-sandbox-'));
    cpSync(sampleSandboxDir, sandbox, { recursive: true });
    as = await startServerProcess(await freePort(), env);
    const mcpPort = await freePort();
    resource = `http://localhost:${mcpPort}/mcp`;
    const { apiKey } = await ensureDemoResource(resource, env);
    mcp = await startMcpServerProcess({ ...env, MANDATE_ISSUER: as.issuer, MCP_PORT: String(mcpPort), MANDATE_RESOURCE_API_KEY: apiKey, MCP_SANDBOX_DIR: sandbox });
    await runCli(['user', 'create', '--email', 'ada@example.com', '--name', 'Ada Lovelace'], env, `${PASSWORD}\n`);
    userId = (await runCliJson<{ id: string }>(['user', 'show', 'ada@example.com'], env)).id;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    if (skip) return;
    await browser?.close();
    await mcp?.stop();
    await as?.stop();
    rmSync(sandbox, { recursive: true, force: true });
  });

  const demoEnv = () => ({ ...env, MANDATE_ISSUER: as.issuer, MCP_URL: resource });

  /**
   * The demo's first run in `workdir`: the browser opens the login URL it prints, signs in, approves the consent page
   * (screenshots of each page when `shots`), and comes back to its loopback redirect; the demo then exits.
   */
  async function firstRun(workdir: string, shots: boolean): Promise<{ demo: RunningProcess; agentId: string; cspViolations: string[] }> {
    const demo = await startProcess([DEMO, '--json'], demoEnv(), /"event":"login_url"/, { cwd: workdir });
    const cspViolations: string[] = [];
    try {
      const setup = events(demo).find((e) => e.event === 'setup');
      assert.ok(setup, 'the demo created its agent and application');
      const agentId = setup['agent'] as string;
      const { url, redirect_uri: redirectUri } = JSON.parse(demo.match.input) as { url: string; redirect_uri: string };
      assert.match(redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      assert.ok(url.startsWith(`${as.issuer}/authorize?`));

      const context = await browser.newContext();
      // Playwright waits for each page by its signal (load, URL); the limit is only for a page that never comes.
      context.setDefaultTimeout(PROCESS_TIMEOUT_MS);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      await page.goto(url);
      assert.equal(await page.title(), 'Sign in · Mandate');
      if (shots) await page.screenshot({ path: `${SHOTS}${fixture.dialect}-login.png`, fullPage: true });

      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(/\/authorize\?/);
      assert.equal(await page.title(), 'Authorize access · Mandate');
      assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /OBO demo agent/);
      const consent = await page.locator('main').innerText();
      assert.match(consent, /OBO demo app/);
      assert.ok(consent.includes(agentId), 'the consent page names the agent’s id');
      assert.match(consent, /calc/);
      if (shots) await page.screenshot({ path: `${SHOTS}${fixture.dialect}-consent.png`, fullPage: true });

      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL((target) => target.href.startsWith(`${redirectUri}?`));
      assert.equal(await page.title(), 'Signed in');
      assert.match(await page.locator('body').innerText(), /You can close this tab/);
      if (shots) await page.screenshot({ path: `${SHOTS}${fixture.dialect}-callback.png`, fullPage: true });
      await context.close();

      assert.equal(await demo.exited(), 0, demo.output());
      return { demo, agentId, cspViolations };
    } finally {
      await demo.stop();
    }
  }

  test('login page → consent page naming the agent → callback → whoami shows the user and the agent; no CSP violation', { skip }, async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'mandate-obo-demo-'));
    try {
      const { demo, agentId, cspViolations } = await firstRun(workdir, true);
      const seen = events(demo);
      const signedIn = seen.find((e) => e.event === 'signed_in')!;
      assert.equal(signedIn['subject'], userId);
      assert.equal(signedIn['actor'], agentId);
      assert.equal(signedIn['email'], 'ada@example.com');
      const whoami = (seen.find((e) => e.event === 'step' && e['tool'] === 'whoami')!['outcome'] as { value: Record<string, unknown> }).value;
      assert.equal(whoami['subject'], userId, 'the user is the subject');
      assert.equal(whoami['agent'], agentId, 'the agent is the actor');
      assert.equal(whoami['acting_for_itself'], false);
      assert.deepEqual((whoami['delegation_chain'] as { subject: string }[]).map((a) => a.subject), [agentId]);
      assert.deepEqual(seen.find((e) => e.event === 'done'), { event: 'done', ok: true, subject: userId, agent: agentId });
      assert.ok(!demo.output().includes(PASSWORD), 'the password never reaches the demo’s output');
      assert.deepEqual(cspViolations, [], 'the pages load no inline script or style');
    } finally {
      rmSync(workdir, { recursive: true, force: true });
    }
  });

  test('a second run reuses the stored authorization (FileTokenStore, refreshed as needed): no login URL, whoami as before', { skip }, async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'mandate-obo-demo-'));
    try {
      await firstRun(workdir, false);
      const demo = await startProcess([DEMO, '--json'], demoEnv(), /"event":"reused"/, { cwd: workdir });
      try {
        assert.equal(await demo.exited(), 0, demo.output());
        const seen = events(demo);
        assert.equal(seen.some((e) => e.event === 'login_url' || e.event === 'setup'), false);
        assert.deepEqual(seen.find((e) => e.event === 'done')?.['subject'], userId);
      } finally {
        await demo.stop();
      }
    } finally {
      rmSync(workdir, { recursive: true, force: true });
    }
  });
});
