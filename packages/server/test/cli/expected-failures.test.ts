import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createVerifier } from '@mandate/sdk/verify';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
const kek = randomBytes(32).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'mandate-cli-failures-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function mandate(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent', ...env } });
}

/** The clock may tick between reading it and the server reading it. */
function assertWithin(actual: number, low: number, high: number) {
  assert.ok(actual >= low && actual <= high, `${actual} not in [${low}, ${high}]`);
}

/** One line on stderr, starting `error:`, exit 1: never a stack trace. */
function assertOneLineError(result: ReturnType<typeof mandate>, pattern: RegExp) {
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /^error: [^\n]+\n$/, `not one line: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/, 'stack trace');
}

test('SR-14 an unreachable or unopenable database is a one-line error, for management commands and serve', () => {
  assertOneLineError(mandate(['agent', 'list', '--db', 'postgres://mandate:s3cret@127.0.0.1:1/mandate']), /cannot reach the database postgres:\/\/mandate@127\.0\.0\.1:1\/mandate: .*ECONNREFUSED/);
  assert.doesNotMatch(mandate(['agent', 'list', '--db', 'postgres://mandate:s3cret@127.0.0.1:1/mandate']).stderr, /s3cret/, 'no password in the message');
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, '');
  assertOneLineError(mandate(['agent', 'list', '--db', `sqlite:${join(aFile, 'x.db')}`]), /cannot open the database sqlite:/);
  assertOneLineError(mandate(['serve', '--port', '0'], { MANDATE_DATABASE_URL: 'postgres://127.0.0.1:1/mandate' }), /cannot reach the database/);
});

forEachStore('SR-14 CLI and admin API refusals', (fixture) => {
  test('SR-07 a CLI without the server’s KEK refuses to write to a keyed audit trail, and makes no KEK of its own', async () => {
    const server = await startTestServer(fixture, { keys: { kek } });
    await server.close();
    const elsewhere = mkdtempSync(join(tmpdir(), 'mandate-cli-nokek-'));
    try {
      const result = spawnSync(process.execPath, [bin, 'agent', 'list', '--db', fixture.url], {
        cwd: elsewhere,
        encoding: 'utf8',
        env: { ...process.env, MANDATE_KEK: '', MANDATE_LOG_LEVEL: 'silent' },
      });
      assertOneLineError(result, /this database's audit trail is keyed by a KEK: give the CLI the server's \(MANDATE_KEK or MANDATE_KEK_FILE\)/);
      assert.equal(existsSync(join(elsewhere, '.mandate', 'kek')), false);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });


  test('SR-14 an unreadable or malformed --jwks-file is a one-line error', () => {
    const notJson = join(dir, 'not-json.jwks');
    writeFileSync(notJson, '{ "keys": [');
    const create = (path: string) => mandate(['agent', 'create', '--name', 'a', '--jwks-file', path, '--db', fixture.url]);
    assertOneLineError(create(join(dir, 'missing.jwks')), /--jwks-file .*missing\.jwks: cannot read it \(no such file\)/);
    assertOneLineError(create(dir), /cannot read it \(it is a directory\)/);
    assertOneLineError(create(notJson), /--jwks-file .*not-json\.jwks: not JSON/);
  });

  test('SR-14 agent create --audience and client create refuse an unregistered resource (CLI and admin API)', async () => {
    const server = await startTestServer(fixture, { keys: { kek } });
    try {
      await registerAgentAndResource(server);
      const unknown = 'https://unregistered.example/mcp';
      assertOneLineError(mandate(['agent', 'create', '--name', 'a', '--audience', unknown, '--db', fixture.url]), new RegExp(`${unknown.replace(/\./g, '\\.')} is not a registered resource`));
      assertOneLineError(
        mandate(['client', 'create', '--name', 'c', '--redirect-uri', 'https://app.example/cb', '--audience', unknown, '--db', fixture.url]),
        /is not a registered resource/,
      );
      for (const [path, body] of [
        ['/agents', { name: 'a', audiences: [MCP_RESOURCE, unknown] }],
        ['/clients', { name: 'c', redirect_uris: ['https://app.example/cb'], audiences: [unknown] }],
      ] as const) {
        const response = await server.admin('POST', path, body);
        assert.equal(response.status, 400, path);
        const problem = (await response.json()) as { detail: string; errors: { path: string }[] };
        assert.match(problem.detail, /is not a registered resource/);
        assert.equal(problem.errors[0]?.path, 'audiences');
      }
      const { clientId } = await registerAgentAndResource(server);
      assert.equal((await server.admin('PATCH', `/agents/${clientId}`, { audiences: [unknown] })).status, 400, 'an update is checked too');
      assert.equal(mandate(['agent', 'create', '--name', 'ok', '--audience', MCP_RESOURCE, '--db', fixture.url]).status, 0);
    } finally {
      await server.close();
    }
  });

  test('SR-14 the old secret after rotate-secret lives for a setting: 24 h by default, --grace, 0 cuts at once', async () => {
    const server = await startTestServer(fixture, { keys: { kek } });
    try {
      const token = (id: string, secret: string) => server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(id, secret) });
      const agent = await registerAgentAndResource(server);

      const before = server.clock.now();
      const byDefault = (await (await server.admin('POST', `/agents/${agent.clientId}/rotate-secret`)).json()) as { client_secret: string; previous_secret_expires_at: number };
      assertWithin(byDefault.previous_secret_expires_at, before + 86_400, server.clock.now() + 86_400);
      assert.equal((await token(agent.clientId, agent.clientSecret)).status, 200, 'the old secret works during the grace period');

      const cut = await server.admin('POST', `/agents/${agent.clientId}/rotate-secret`, { grace_seconds: 0 });
      const { client_secret: newest } = (await cut.json()) as { client_secret: string };
      assert.equal((await token(agent.clientId, byDefault.client_secret)).status, 401, '0 cuts the old secret at once');
      assert.equal((await token(agent.clientId, newest)).status, 200);
      assert.equal((await server.admin('POST', `/agents/${agent.clientId}/rotate-secret`, { grace_seconds: -1 })).status, 400);
      assert.equal((await server.admin('POST', `/agents/${agent.clientId}/rotate-secret`, { grace: 5 })).status, 400);

      const realBefore = Math.floor(Date.now() / 1000);
      const rotated = mandate(['agent', 'rotate-secret', agent.clientId, '--grace', '60', '--json', '--db', fixture.url]);
      assert.equal(rotated.status, 0, rotated.stderr);
      // The CLI is another process, on the real clock; the server's clock is frozen, so it is moved to the CLI's instant.
      const { previous_secret_expires_at: graceEnd } = JSON.parse(rotated.stdout) as { previous_secret_expires_at: number };
      assertWithin(graceEnd, realBefore + 60, Math.floor(Date.now() / 1000) + 60);
      server.clock.advance(graceEnd - 60 - server.clock.now());
      assert.equal((await token(agent.clientId, newest)).status, 200);
      server.clock.advance(61);
      assert.equal((await token(agent.clientId, newest)).status, 401, 'past --grace');

      const env = mandate(['agent', 'rotate-secret', agent.clientId, '--db', fixture.url], { MANDATE_SECRET_ROTATION_GRACE: '0' });
      assert.match(env.stdout, /the previous secret no longer works/);
    } finally {
      await server.close();
    }
  });

  test('SR-14 a rotated resource API key works for its grace period; then the SDK reports ERR_INTROSPECTION_UNAUTHORIZED, not an outage', async () => {
    const server = await startTestServer(fixture, { keys: { kek } });
    try {
      const resource = 'https://grace.example/mcp';
      const created = (await (await server.admin('POST', '/resources', { resource, scopes: ['calc'] })).json()) as { id: string; api_key: string };
      const agent = await registerAgentAndResource(server, { audiences: [resource] }, resource);
      const issued = await server.postForm('/token', { grant_type: 'client_credentials', resource }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      const { access_token } = (await issued.json()) as { access_token: string };
      const introspect = (apiKey: string) => server.postForm('/introspect', { token: access_token }, { authorization: `Bearer ${apiKey}` });
      const verifier = (apiKey: string) => createVerifier({ issuer: server.issuer, audience: resource, introspection: { credentials: { apiKey } } });

      const before = server.clock.now();
      const rotated = (await (await server.admin('POST', `/resources/${created.id}/rotate-key`)).json()) as { api_key: string; previous_key_valid_until: number };
      assertWithin(rotated.previous_key_valid_until, before + 86_400, server.clock.now() + 86_400);
      assert.equal((await introspect(created.api_key)).status, 200, 'the old key works during the grace period');
      assert.equal((await introspect(rotated.api_key)).status, 200);
      assert.equal((await verifier(created.api_key).verify(access_token)).subject, agent.clientId);

      server.clock.advance(86_401);
      assert.equal((await introspect(created.api_key)).status, 401, 'past the grace period');
      await assert.rejects(verifier(created.api_key).verify(access_token), { code: 'ERR_INTROSPECTION_UNAUTHORIZED' });

      const cli = mandate(['resource', 'rotate-key', resource, '--grace', '0', '--json', '--db', fixture.url]);
      assert.equal(cli.status, 0, cli.stderr);
      const { api_key: newest, previous_key_valid_until } = JSON.parse(cli.stdout) as { api_key: string; previous_key_valid_until: number | null };
      assert.equal(previous_key_valid_until, null);
      assert.equal((await introspect(rotated.api_key)).status, 401, '--grace 0 cuts the old key at once');
      assert.equal((await introspect(newest)).status, 200);
    } finally {
      await server.close();
    }
  });
});
