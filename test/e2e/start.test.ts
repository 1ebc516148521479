import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { type RunningProcess, runAgent, START_SCRIPT, startProcess } from '../helpers/demo-processes.ts';
import { mandateEnv, runCliJson } from '../helpers/processes.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

/**
 * `npm start` (scripts/start.ts) as an operator runs it, from an empty working directory: both servers come up as
 * child processes, the resource is registered once, the printed next steps work, a signal stops everything, and a
 * second start reuses the registration with a fresh API key.
 */
forEachStore('npm start', (fixture) => {
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  let port: number;
  let mcpPort: number;
  /** The first start in `cwd`, which registered the resource (stopped by now, perhaps, but its output stays). */
  let first: RunningProcess;
  /** The start that is running now, if any: tests stop and restart it. */
  let start: RunningProcess | undefined;

  const issuer = () => `http://localhost:${port}`;
  const resource = () => `http://localhost:${mcpPort}/mcp`;
  const launch = async () => (await startProcess([START_SCRIPT], env, /^\[start\] ready/, { cwd })) as RunningProcess;
  /** The running start, launched again if an earlier test stopped it (each test stands on its own). */
  const running = async () => (start ??= await launch());
  const isListening = (p: number) => fetch(`http://localhost:${p}/`).then(
    () => true,
    () => false,
  );
  const createAgent = () => runCliJson<{ client_id: string; client_secret: string }>(['agent', 'create', '--name', 'demo-agent', '--scope', 'calc files:read', '--audience', resource()], env);

  before(async () => {
    port = await freePort();
    mcpPort = await freePort();
    cwd = mkdtempSync(join(tmpdir(), 'mandate-start-'));
    // MCP_VERIFY=introspection so that a working MCP server also proves it received a valid API key.
    env = { ...mandateEnv(fixture.url), PORT: String(port), MCP_PORT: String(mcpPort), MCP_VERIFY: 'introspection', MANDATE_LOG_LEVEL: 'info' };
    first = start = await launch();
  });
  after(async () => {
    await start?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  test('serves the AS and the demo MCP server, registered with its scopes and risk levels, and prints next steps', async () => {
    await running();
    const metadata = (await (await fetch(`${issuer()}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
    assert.equal(metadata.issuer, issuer());
    const unauthenticated = await fetch(resource(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers.get('www-authenticate'), `Bearer scope="calc files:read", resource_metadata="http://localhost:${mcpPort}/.well-known/oauth-protected-resource/mcp", ${DPOP_OFFER}`);

    const shown = await runCliJson<{ scopes: { name: string; risk: string }[] }>(['resource', 'show', resource()], env);
    assert.deepEqual(shown.scopes.map((s) => `${s.name}:${s.risk}`), ['calc:low', 'files:read:low', 'files:write:medium', 'exec:high']);

    const output = first.output();
    assert.match(output, /^\[mandate\] Mandate authorization server on /m);
    assert.match(output, /^\[mandate\] INFO mandate listening issuer=http:\/\/localhost:\d+ store=\w+ kid=/m, 'pino JSON made readable');
    assert.match(output, /^\[mcp\] +Demo MCP server on http:\/\/localhost:\d+\/mcp .*verify: introspection/m);
    assert.match(output, new RegExp(`^\\[start\\] registered ${resource()} with scopes calc files:read files:write exec$`, 'm'));
    assert.ok(output.includes(`npx mandate agent create --name demo-agent --scope "calc files:read" --audience ${resource()} --json`));
    assert.ok(existsSync(join(cwd, '.mandate', 'sandbox', 'hello.txt')), 'the default sandbox is seeded in the working directory');
  });

  test('the next steps work: the agent created as printed runs the demo plan', async () => {
    await running();
    const agent = await createAgent();
    const { code, events, stderr } = await runAgent([], {
      ...env,
      MANDATE_ISSUER: issuer(),
      MCP_URL: resource(),
      MANDATE_CLIENT_ID: agent.client_id,
      MANDATE_CLIENT_SECRET: agent.client_secret,
    });
    assert.equal(code, 0, `${JSON.stringify(events)}\n${stderr}`);
    assert.deepEqual(events.at(-1), { event: 'done', ok: true, unexpected: [] });
  });

  test('SIGINT stops both servers and start exits 0', async () => {
    const stopping = await running();
    start = undefined;
    assert.equal(await stopping.stop('SIGINT'), 0);
    assert.match(stopping.output(), /^\[start\] stopped$/m);
    assert.equal(await isListening(port), false);
    assert.equal(await isListening(mcpPort), false);
  });

  test('a second start keeps the registration and issues a fresh API key; the previous one stops working', async () => {
    const agent = await createAgent();
    await start?.stop('SIGINT');
    start = undefined;
    const { api_key: previous } = await runCliJson<{ api_key: string }>(['resource', 'rotate-key', resource()], env);
    start = await launch();
    assert.match(start.output(), new RegExp(`^\\[start\\] ${resource()} is registered; issued it a fresh API key$`, 'm'));
    const introspection = await fetch(`${issuer()}/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${previous}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'x' }),
    });
    assert.equal(introspection.status, 401);
    const { code } = await runAgent([], { ...env, MANDATE_ISSUER: issuer(), MCP_URL: resource(), MANDATE_CLIENT_ID: agent.client_id, MANDATE_CLIENT_SECRET: agent.client_secret });
    assert.equal(code, 0, 'the MCP server introspects with the new key');
    const resources = await runCliJson<{ resource: string }[]>(['resource', 'list'], env);
    assert.equal(resources.filter((r) => r.resource === resource()).length, 1);
  });
});

test('a port in use: start says which variable to change and exits 1, before starting anything', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'mandate-start-'));
  const holder = createServer();
  const held = await freePort();
  await new Promise<void>((resolve) => holder.listen(held, '127.0.0.1', resolve));
  try {
    const failed = await startProcess([START_SCRIPT], { ...process.env, PORT: String(await freePort()), MCP_PORT: String(held) }, /^\[start\] stopped/, { cwd });
    assert.equal(await failed.stop(), 1);
    assert.match(failed.output(), new RegExp(`^\\[start\\] error: port ${held} is in use: set MCP_PORT to another port$`, 'm'));
    assert.equal(existsSync(join(cwd, '.mandate')), false);
  } finally {
    holder.close();
    rmSync(cwd, { recursive: true, force: true });
  }
});
