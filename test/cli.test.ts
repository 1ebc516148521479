import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { forEachStore } from '../packages/server/test/helpers/stores.ts';
import { CLI, mandateEnv, PROCESS_TIMEOUT_MS, runCli, runCliJson } from './helpers/processes.ts';

forEachStore('mandate CLI', (fixture) => {
  let env: NodeJS.ProcessEnv;
  before(() => {
    env = mandateEnv(fixture.url);
  });

  test('agent create --json prints client_id and client_secret; list/show/disable/enable/rotate-secret/delete', async () => {
    // An agent's audiences must be registered resources (SR-14).
    await runCliJson(['resource', 'create', '--uri', 'https://mcp.example.com/mcp', '--scope', 'calc files:read'], env);
    const agent = await runCliJson<Record<string, unknown>>(
      ['agent', 'create', '--name', 'cli bot', '--scope', 'calc files:read', '--audience', 'https://MCP.example.com/mcp', '--owner', 'ana@example.com'],
      env,
    );
    assert.match(agent['client_id'] as string, /^agt_/);
    assert.match(agent['client_secret'] as string, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(agent['audiences'], ['https://mcp.example.com/mcp'], 'canonicalised');
    const id = agent['client_id'] as string;

    const list = await runCliJson<{ client_id: string }[]>(['agent', 'list'], env);
    assert.ok(list.some((a) => a.client_id === id));
    assert.match(await runCli(['agent', 'list'], env), /CLIENT_ID\s+NAME\s+STATUS/);
    assert.equal((await runCliJson<{ status: string }>(['agent', 'disable', id], env)).status, 'disabled');
    assert.equal((await runCliJson<{ status: string }>(['agent', 'enable', id], env)).status, 'active');
    const rotated = await runCliJson<{ client_secret: string; previous_secret_expires_at: number }>(['agent', 'rotate-secret', id], env);
    assert.notEqual(rotated.client_secret, agent['client_secret']);
    assert.ok(rotated.previous_secret_expires_at > Date.now() / 1000);
    assert.deepEqual(await runCliJson(['agent', 'delete', id], env), { deleted: id });
    const events = await runCliJson<{ event: string }[]>(['audit', 'list', '--event', 'agent.*', '--principal', id, '--asc'], env);
    assert.deepEqual(
      events.map((e) => e.event),
      ['agent.created', 'agent.disabled', 'agent.enabled', 'agent.secret_rotated', 'agent.deleted'],
    );
  });

  test('resource create --json prints resource and api_key; admin-token create prints a token once', async () => {
    const resource = await runCliJson<{ resource: string; api_key: string }>(['resource', 'create', '--uri', 'https://api.example.com/v1', '--scope', 'read write'], env);
    assert.equal(resource.resource, 'https://api.example.com/v1');
    assert.match(resource.api_key, /^mrk_/);
    const token = await runCliJson<{ token: string; id: string }>(['admin-token', 'create', '--name', 'ops'], env);
    assert.match(token.token, /^mad_/);
    const tokens = await runCliJson<Record<string, unknown>[]>(['admin-token', 'list'], env);
    assert.ok(tokens.every((t) => !('token' in t) && !('secret_hash' in t)));
  });

  test('resource create --risk/--describe set what the consent page shows; a bad level is a usage error', async () => {
    const resource = await runCliJson<{ scopes: { name: string; risk: string; description: string | null }[] }>(
      ['resource', 'create', '--uri', 'https://tools.example.com/mcp', '--scope', 'read exec', '--risk', 'exec=high', '--describe', 'exec=Run commands'],
      env,
    );
    assert.deepEqual(resource.scopes, [
      { name: 'read', risk: 'low', description: null },
      { name: 'exec', risk: 'high', description: 'Run commands' },
    ]);
    const bad = spawnSync(process.execPath, [CLI, 'resource', 'create', '--uri', 'https://x.example.com', '--scope', 'a', '--risk', 'a=extreme'], { env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /must be low, medium, high or critical/);
  });

  test('serve on a port in use: one line on stderr, exit 1', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as AddressInfo;
    try {
      const result = spawnSync(process.execPath, [CLI, 'serve', '--port', String(port)], { env, encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS });
      assert.equal(result.status, 1);
      assert.equal(result.stderr, `error: cannot listen on 127.0.0.1:${port} (in use); choose another with --port or PORT\n`);
    } finally {
      blocker.close();
    }
  });

  test('serve with an invalid setting: one line naming the option, what it must be and the variable; exit 1', () => {
    const run = (extra: NodeJS.ProcessEnv) => spawnSync(process.execPath, [CLI, 'serve', '--port', '0'], { env: { ...env, ...extra }, encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS });
    const ttl = run({ MANDATE_ACCESS_TOKEN_TTL: '5' });
    assert.equal(ttl.status, 1);
    assert.equal(ttl.stderr, 'error: tokens.accessTokenTtlSeconds must be a whole number of seconds between 60 and 86400 (from MANDATE_ACCESS_TOKEN_TTL)\n');
    const alg = run({ MANDATE_SIGNING_ALG: 'HS256' });
    assert.equal(alg.stderr, 'error: keys.algorithm must be one of ES256, EdDSA, RS256 (from MANDATE_SIGNING_ALG)\n');
    const flag = run({ MANDATE_ALLOW_IMPERSONATION: 'yes' });
    assert.equal(flag.stderr, 'error: MANDATE_ALLOW_IMPERSONATION must be true or false, got "yes"\n');
  });

  test('keys rotate and list; audit verify', async () => {
    const rotated = await runCliJson<{ kid: string; retired_kid: string }>(['keys', 'rotate'], env);
    const keys = await runCliJson<{ kid: string; status: string; published: boolean }[]>(['keys', 'list'], env);
    assert.deepEqual(
      keys.filter((k) => k.published).map((k) => k.kid).sort(),
      [rotated.kid, rotated.retired_kid].sort(),
    );
    const report = await runCliJson<{ ok: boolean; rowsChecked: number }>(['audit', 'verify'], env);
    assert.equal(report.ok, true);
    assert.ok(report.rowsChecked >= 1, 'the rotation itself is audited');
  });

  test('mistakes: usage errors exit 2, refused operations exit 1 with a one-line message', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    assert.equal(run('agent', 'create').status, 2);
    assert.equal(run('agent', 'show').status, 2);
    assert.equal(run('no-such-command').status, 2);
    assert.equal(run('agent', 'create', '--bogus-flag').status, 2);
    const missing = run('agent', 'show', 'agt_missing');
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'error: no agent agt_missing\n');
    const invalid = run('agent', 'create', '--name', 'x', '--audience', 'not a uri');
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /audiences\.0: must be an absolute http\(s\) URI/);
    assert.equal(run('--help').status, 0);
    assert.match(run('agent', '--help').stdout, /rotate-secret/);
  });
});
