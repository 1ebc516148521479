import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forEachStore } from '../helpers/stores.ts';
import { verifyPassword } from '../../src/users/password.ts';

const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
/** The audit rows the commands write are MACed with a key derived from the KEK: one KEK for the whole suite. */
const kek = randomBytes(32).toString('base64url');

function mandate(args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' } });
}

forEachStore('CLI: mandate user and mandate client', (fixture) => {
  test('mandate user create reads the password from stdin and stores only its scrypt hash', async () => {
    const result = mandate(['user', 'create', '--email', 'Ada@Example.com', '--name', 'Ada', '--admin', '--json', '--db', fixture.url], 'a long password\n');
    assert.equal(result.status, 0, result.stderr);
    const user = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(user['email'], 'ada@example.com');
    assert.equal(user['is_admin'], true);
    assert.equal(user['has_password'], true);
    assert.doesNotMatch(result.stdout, /a long password/);
    const record = await fixture.store.getUser(user['id'] as string);
    assert.match(record!.passwordHash!, /^\$scrypt\$ln=15,r=8,p=1\$/);
    assert.equal(await verifyPassword('a long password', record!.passwordHash), true, 'the trailing newline is not part of the password');
  });

  test('mandate user create refuses a short password; a duplicate email exits 1', () => {
    assert.equal(mandate(['user', 'create', '--email', 'b@example.com', '--db', fixture.url], 'short').status, 1);
    assert.equal(mandate(['user', 'create', '--email', 'dup@example.com', '--db', fixture.url], 'a long password').status, 0);
    assert.equal(mandate(['user', 'create', '--email', 'Dup@example.com', '--db', fixture.url], 'another long one').status, 1);
  });

  test('mandate agent create --jwt-bearer lets an agent redeem trusted issuers’ assertions; mandate agent jwt-bearer --deny|--allow changes it', () => {
    const created = mandate(['agent', 'create', '--name', 'Reporter', '--scope', 'calc', '--jwt-bearer', '--json', '--db', fixture.url]);
    assert.equal(created.status, 0, created.stderr);
    const agent = JSON.parse(created.stdout) as { client_id: string; jwt_bearer: boolean };
    assert.equal(agent.jwt_bearer, true);
    const denied = mandate(['agent', 'jwt-bearer', agent.client_id, '--deny', '--json', '--db', fixture.url]);
    assert.equal(denied.status, 0, denied.stderr);
    assert.equal((JSON.parse(denied.stdout) as { jwt_bearer: boolean }).jwt_bearer, false);
    const shown = mandate(['agent', 'jwt-bearer', agent.client_id, '--db', fixture.url]);
    assert.match(shown.stdout, /jwt-bearer\s+denied/);
    const allowed = mandate(['agent', 'jwt-bearer', agent.client_id, '--allow', '--json', '--db', fixture.url]);
    assert.equal((JSON.parse(allowed.stdout) as { jwt_bearer: boolean }).jwt_bearer, true);
    const plain = JSON.parse(mandate(['agent', 'create', '--name', 'Plain', '--json', '--db', fixture.url]).stdout) as { jwt_bearer: boolean };
    assert.equal(plain.jwt_bearer, false, 'off by default');
  });

  test('mandate client create --public --json prints the client without a secret; confidential ones get one', () => {
    const pub = mandate(['client', 'create', '--name', 'CLI', '--redirect-uri', 'http://127.0.0.1/callback', '--public', '--scope', 'calc files:read', '--json', '--db', fixture.url]);
    assert.equal(pub.status, 0, pub.stderr);
    const client = JSON.parse(pub.stdout) as Record<string, unknown>;
    assert.match(client['client_id'] as string, /^app_/);
    assert.equal(client['token_endpoint_auth_method'], 'none');
    assert.deepEqual(client['scopes'], ['calc', 'files:read']);
    assert.equal(client['client_secret'], undefined);
    const conf = JSON.parse(mandate(['client', 'create', '--name', 'Web', '--redirect-uri', 'https://web.example/cb', '--json', '--db', fixture.url]).stdout) as Record<string, unknown>;
    assert.equal(conf['token_endpoint_auth_method'], 'client_secret_basic');
    assert.match(conf['client_secret'] as string, /^[A-Za-z0-9_-]{43}$/);
    const bad = mandate(['client', 'create', '--name', 'Bad', '--redirect-uri', 'http://evil.example/cb', '--db', fixture.url]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /loopback/);
  });

  test('mandate client create --jwks-file --require-par: a private_key_jwt client without a secret whose requests must be pushed (RFC 9126, FAPI 2.0)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-jwks-'));
    const jwks = join(dir, 'keys.json');
    const { x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    writeFileSync(jwks, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x, y, kid: 'k1' }] }));
    const run = mandate(['client', 'create', '--name', 'FAPI', '--redirect-uri', 'https://fapi.example/cb', '--jwks-file', jwks, '--require-par', '--json', '--db', fixture.url]);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(run.status, 0, run.stderr);
    const client = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(client['token_endpoint_auth_method'], 'private_key_jwt');
    assert.equal(client['client_secret'], undefined);
    assert.equal(client['require_pushed_authorization_requests'], true);
    assert.equal((client['jwks'] as { keys: { kid: string }[] }).keys[0]!.kid, 'k1');
  });

  test('mandate client create accepts Cursor’s cursor:// redirect (a private-use scheme without a dot), never javascript:; list and show say who registered each client', async () => {
    const cursor = mandate(['client', 'create', '--name', 'Cursor', '--redirect-uri', 'cursor://anysphere.cursor-mcp/oauth/callback', '--public', '--json', '--db', fixture.url]);
    assert.equal(cursor.status, 0, cursor.stderr);
    const created = JSON.parse(cursor.stdout) as { client_id: string; redirect_uris: string[]; registration: unknown };
    assert.deepEqual(created.redirect_uris, ['cursor://anysphere.cursor-mcp/oauth/callback']);
    assert.equal(created.registration, null, 'created by an operator');
    const script = mandate(['client', 'create', '--name', 'Bad', '--redirect-uri', 'javascript:alert(1)', '--public', '--db', fixture.url]);
    assert.equal(script.status, 1);
    assert.match(script.stderr, /javascript scheme is never a redirect target/);

    // A client that registered itself (RFC 7591), written as the registration endpoint writes it.
    const now = Math.floor(Date.now() / 1000);
    const base = (await fixture.store.getClient(created.client_id))!;
    const selfRegistered = { ...base, clientId: `app_dyn${randomBytes(6).toString('hex')}`, name: 'Self Registered' };
    await fixture.store.createRegisteredClient(selfRegistered, {
      clientId: selfRegistered.clientId, source: 'dynamic', registrationTokenHash: 'a'.repeat(64), metadata: {}, documentExpiresAt: null, createdAt: now, updatedAt: now,
    });
    const list = mandate(['client', 'list', '--db', fixture.url]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${selfRegistered.clientId}\\s.*\\sdynamic`));
    assert.match(list.stdout, new RegExp(`${created.client_id}\\s.*\\soperator`));
    const show = mandate(['client', 'show', selfRegistered.clientId, '--db', fixture.url]);
    assert.match(show.stdout, /source\s+dynamic \(self-registered, unverified\)/);
  });
});
