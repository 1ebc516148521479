import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { Browser } from '../../packages/server/test/helpers/user-flow.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { type McpStack, startMcpStack } from '../helpers/mcp-stack.ts';
import { PROCESS_TIMEOUT_MS, REPO_ROOT } from '../helpers/processes.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/** The Inspector's launcher (`npx @modelcontextprotocol/inspector`), pinned in the root devDependencies. */
const INSPECTOR = `${REPO_ROOT}node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js`;

interface InspectorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The authorization URLs it asked the user to open. */
  authorizations: URL[];
}

/**
 * The MCP Inspector (2.12.0) CLI against the demo MCP server through `mandate serve`, with its own OAuth: no
 * `--client-id`, so it registers itself (RFC 7591), as `npx @modelcontextprotocol/inspector --cli <url>` does for
 * anyone. It runs headless as its own documentation allows (`MCP_AUTO_OPEN_ENABLED=true`: no TTY needed; it prints
 * "Please navigate to: <url>" on stderr and waits on its loopback callback); the test is the user: it signs in and
 * consents through the real pages and sends the browser back to the Inspector's callback. `BROWSER=true` keeps
 * xdg-open from starting a real browser. Its state (registration, tokens: the `file` secret store) lives in a
 * temporary HOME, so a second run reuses the first run's token.
 */
forEachStore('interop: the MCP Inspector CLI with its own OAuth (no --client-id) against `mandate serve` and the demo MCP server', (fixture) => {
  const email = 'inspector@example.com';
  const browser = new Browser();
  const consentPages: string[] = [];
  let stack: McpStack;
  let home: string;
  let callbackUrl: string;

  before(async () => {
    stack = await startMcpStack(fixture.url, email);
    home = mkdtempSync(join(tmpdir(), 'mandate-inspector-home-'));
    callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
  });
  after(async () => {
    await stack?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** `inspector --cli <demo server> …args`; plays the user for each URL it prints. */
  function inspector(args: string[]): Promise<InspectorRun> {
    const child = spawn(process.execPath, [INSPECTOR, '--cli', stack.mcp.resource, '--callback-url', callbackUrl, '--format', 'json', ...args], {
      env: { ...process.env, HOME: home, MCP_AUTO_OPEN_ENABLED: 'true', MCP_INSPECTOR_SECRET_STORE: 'file', BROWSER: 'true', DISPLAY: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: InspectorRun = { code: null, stdout: '', stderr: '', authorizations: [] };
    const userActions: Promise<void>[] = [];
    child.stdout.on('data', (d: Buffer) => (run.stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      const before = run.stderr;
      run.stderr += d;
      for (const match of run.stderr.slice(Math.max(0, before.lastIndexOf('\n'))).matchAll(/Please navigate to: (\S+)\n/g)) {
        const url = new URL(match[1]!);
        run.authorizations.push(url);
        userActions.push(
          (async () => {
            const { location, consentPage } = await signInAndConsent(url.href, { email, browser });
            consentPages.push(consentPage);
            const back = await fetch(location);
            await back.body?.cancel();
          })(),
        );
      }
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(limit);
        run.code = code;
        Promise.all(userActions).then(() => resolve(run), reject);
      });
    });
  }

  test('MCP-C-08 tools/list: the Inspector registers itself, the user signs in and consents, the tools are listed', async () => {
    const run = await inspector(['--method', 'tools/list']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.authorizations.length, 1, run.stderr);
    const params = run.authorizations[0]!.searchParams;
    assert.notEqual(params.get('client_id'), null);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('redirect_uri'), callbackUrl);
    assert.deepEqual(params.getAll('resource'), [stack.mcp.resource]);
    const names = (JSON.parse(run.stdout) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    for (const tool of ['whoami', 'add', 'list_files', 'read_file', 'write_file']) assert.ok(names.includes(tool), `${tool} in ${names.join(', ')}`);
  });

  /** The text of a `--format json` tools/call result, parsed (the demo tools answer JSON). */
  const toolResult = (run: InspectorRun) => {
    const { result } = JSON.parse(run.stdout) as { result: { content: { text: string }[]; isError?: boolean } };
    assert.notEqual(result.isError, true, run.stdout);
    return JSON.parse(result.content.map((c) => c.text).join('')) as Record<string, unknown>;
  };

  test('tools/call with the stored token, no new sign-in: add, whoami (the user, through the Inspector’s registered client), write_file', async () => {
    const add = await inspector(['--method', 'tools/call', '--tool-name', 'add', '--tool-args-json', '{"a":2,"b":3}']);
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(toolResult(add), { sum: 5 });
    const whoami = await inspector(['--method', 'tools/call', '--tool-name', 'whoami']);
    assert.equal(whoami.code, 0, whoami.stderr);
    const me = toolResult(whoami);
    assert.equal(me['subject'], stack.userId);
    assert.match(String(me['client_id']), /^app_/, 'a client the Inspector registered');
    // The Inspector asks for every scope the resource lists (not the 401's), so the user granted files:write at once.
    const written = await inspector(['--method', 'tools/call', '--tool-name', 'write_file', '--tool-args-json', '{"path":"from-inspector.txt","content":"hi\\n"}']);
    assert.equal(written.code, 0, written.stderr);
    assert.deepEqual(toolResult(written), { written: { path: 'from-inspector.txt', bytes: 3 } });
    assert.equal(add.authorizations.length + whoami.authorizations.length + written.authorizations.length, 0, 'the first run’s token serves them all');
    assert.equal(consentPages.length, 1);
  });
});
