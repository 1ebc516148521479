import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/** SR-12: client assertions (`private_key_jwt`) held to RFC 7523 tightly, and client JWKS that are public keys only. */

const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
const kek = randomBytes(32).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'mandate-sr12-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' } });
}

const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

forEachStore('SR-12 client assertions and client JWKS', (fixture) => {
  let server: TestServer;
  let apiKey: string;

  before(async () => {
    server = await startTestServer(fixture, { keys: { kek } });
    apiKey = (await registerAgentAndResource(server)).apiKey;
  });
  after(() => server.close());

  async function keyedAgent(publicKey: KeyObject): Promise<string> {
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const created = await server.admin('POST', '/agents', { name: 'keyed', scopes: ['calc'], audiences: [MCP_RESOURCE], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } });
    assert.equal(created.status, 201, await created.clone().text());
    return ((await created.json()) as { client_id: string }).client_id;
  }

  function assertion(clientId: string, privateKey: KeyObject, claims: { aud?: string | string[]; iat?: number | null; exp?: number | null; jti?: string | null } = {}) {
    const body: Record<string, unknown> = {};
    if (claims.jti !== null) body['jti'] = claims.jti ?? randomUUID();
    const jwt = new SignJWT(body).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(clientId).setSubject(clientId).setAudience(claims.aud ?? server.issuer);
    if (claims.iat !== null) jwt.setIssuedAt(claims.iat ?? server.clock.now());
    if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? server.clock.now() + 60);
    return jwt.sign(privateKey);
  }
  const tokenWith = async (jwt: string) =>
    server.postForm('/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
  const refused = async (response: Response, why: string) => {
    assert.equal(response.status, 401, why);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client', why);
  };

  test('SR-12 aud must be the issuer or the token endpoint, alone or in an array of only those; never the JWKS or introspection URL', async () => {
    const { privateKey, publicKey } = ecKey();
    const clientId = await keyedAgent(publicKey);
    const token = `${server.issuer}/token`;
    for (const aud of [server.issuer, token, [server.issuer, token]]) {
      assert.equal((await tokenWith(await assertion(clientId, privateKey, { aud }))).status, 200, JSON.stringify(aud));
    }
    for (const aud of [
      [server.issuer, 'https://other.example.com'],
      ['https://other.example.com', token],
      `${server.issuer}/jwks.json`,
      `${server.issuer}/introspect`,
      [`${server.issuer}/introspect`, server.issuer],
      `${server.issuer}/`,
    ]) {
      await refused(await tokenWith(await assertion(clientId, privateKey, { aud })), JSON.stringify(aud));
    }
    // At the introspection endpoint too, the assertion names the issuer (or the token endpoint), not the endpoint itself.
    const introspect = (jwt: string) => server.postForm('/introspect', { token: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
    assert.equal((await introspect(await assertion(clientId, privateKey))).status, 200);
    await refused(await introspect(await assertion(clientId, privateKey, { aud: `${server.issuer}/introspect` })), 'introspection URL');
  });

  test('SR-12 iat beyond the clock skew in the future, no exp, exp too far, no jti, a replayed jti → invalid_client', async () => {
    const { privateKey, publicKey } = ecKey();
    const clientId = await keyedAgent(publicKey);
    const now = server.clock.now();
    const skew = server.config.tokens.clockSkewSeconds;
    assert.equal((await tokenWith(await assertion(clientId, privateKey, { iat: now + skew }))).status, 200, 'within the skew');
    assert.equal((await tokenWith(await assertion(clientId, privateKey, { iat: null }))).status, 200, 'iat is optional (RFC 7523 §3)');
    await refused(await tokenWith(await assertion(clientId, privateKey, { iat: now + 3600, exp: now + 120 })), 'iat an hour ahead');
    await refused(await tokenWith(await assertion(clientId, privateKey, { iat: now + skew + 5 })), 'iat past the skew');
    await refused(await tokenWith(await assertion(clientId, privateKey, { exp: null })), 'no exp');
    await refused(await tokenWith(await assertion(clientId, privateKey, { exp: now + server.config.tokens.clientAssertionMaxTtlSeconds + 60 })), 'exp too far');
    await refused(await tokenWith(await assertion(clientId, privateKey, { jti: null })), 'no jti');
    const once = await assertion(clientId, privateKey);
    assert.equal((await tokenWith(once)).status, 200);
    await refused(await tokenWith(once), 'replayed jti');
  });

  test('SR-12 agent JWKS must be public asymmetric keys of allowed types; private, symmetric, weak or junk keys are refused (admin API and CLI)', async () => {
    const ec = await exportJWK(ecKey().privateKey);
    const rsaWeak = await exportJWK(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    const p521 = await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey);
    const ed = await exportJWK(generateKeyPairSync('ed25519').publicKey);
    const { d: _d, ...ecPublic } = ec;
    const cases: [string, unknown, RegExp][] = [
      ['a private EC key', ec, /private key material \(d\)/],
      ['a symmetric key', { kty: 'oct', k: randomBytes(32).toString('base64url') }, /symmetric/],
      ['junk', { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }, /not a valid public key/],
      ['no kty', { x: 'abc' }, /kty must be/],
      ['a 1024-bit RSA key', rsaWeak, /at least 2048 bits/],
      ['P-521', p521, /crv must be one of P-256, P-384/],
      ['an alg that does not fit', { ...ed, alg: 'ES256' }, /does not fit/],
      ['use enc', { ...ecPublic, use: 'enc' }, /use must be sig/],
      ['not an object', 'a string', /not a JSON object/],
    ];
    for (const [name, key, reason] of cases) {
      const response = await server.admin('POST', '/agents', { name, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key] } });
      assert.equal(response.status, 400, name);
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
      const problem = (await response.json()) as { errors: { path: string; message: string }[] };
      assert.equal(problem.errors[0]?.path, 'jwks.keys.0', name);
      assert.match(problem.errors[0]!.message, reason, name);

      const file = join(dir, `${randomUUID()}.json`);
      writeFileSync(file, JSON.stringify({ keys: [key] }));
      const result = cli(['agent', 'create', '--name', 'x', '--jwks-file', file, '--db', fixture.url]);
      assert.equal(result.status, 1, `${name}: ${result.stdout}`);
      assert.match(result.stderr, /^error: [^\n]*jwks\.keys\.0[^\n]*\n$/, name);
    }
    // Accepted keys are kept as their public members only: what the admin API shows is a public JWK Set.
    const extra = { ...ecPublic, kid: 'k9', alg: 'ES256', use: 'sig', ext: true, x5u: 'https://evil.example.com/cert' };
    const created = await server.admin('POST', '/agents', { name: 'ok', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [extra, { ...ed, kid: 'k10' }] } });
    assert.equal(created.status, 201);
    const view = (await created.json()) as { jwks: { keys: Record<string, unknown>[] } };
    assert.deepEqual(view.jwks.keys[0], { kty: 'EC', crv: 'P-256', x: ecPublic.x, y: ecPublic.y, kid: 'k9', alg: 'ES256', use: 'sig' });
    assert.deepEqual(Object.keys(view.jwks.keys[1]!).sort(), ['crv', 'kid', 'kty', 'x']);
  });

  test('SR-12 a private_key_jwt agent’s JWKS is replaced with the same checks (admin API PATCH, CLI agent set-jwks); old keys stop working', async () => {
    const first = ecKey();
    const clientId = await keyedAgent(first.publicKey);
    const second = ecKey();
    const nextJwks = { keys: [{ ...(await exportJWK(second.publicKey)), kid: 'k1', alg: 'ES256' }] };

    const bad = await server.admin('PATCH', `/agents/${clientId}`, { jwks: { keys: [await exportJWK(second.privateKey)] } });
    assert.equal(bad.status, 400);
    assert.equal((await server.admin('PATCH', `/agents/${clientId}`, { jwks: nextJwks })).status, 200);
    await refused(await tokenWith(await assertion(clientId, first.privateKey)), 'the replaced key');
    assert.equal((await tokenWith(await assertion(clientId, second.privateKey))).status, 200);

    const third = ecKey();
    const file = join(dir, `${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(third.publicKey)), kid: 'k1' }] }));
    const result = cli(['agent', 'set-jwks', clientId, '--jwks-file', file, '--db', fixture.url, '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(((JSON.parse(result.stdout) as { jwks: { keys: unknown[] } }).jwks.keys).length, 1);
    assert.equal((await tokenWith(await assertion(clientId, third.privateKey))).status, 200);

    // A secret-authenticated agent has no keys to replace.
    const secretAgent = await registerAgentAndResource(server);
    const refusedPatch = await server.admin('PATCH', `/agents/${secretAgent.clientId}`, { jwks: nextJwks });
    assert.equal(refusedPatch.status, 400);
    assert.equal(((await refusedPatch.json()) as { errors: { path: string }[] }).errors[0]?.path, 'jwks');
  });

  test('SR-12 keys stored before these checks are used and shown only as their public half; a stored oct key is never used', async () => {
    const { privateKey, publicKey } = ecKey();
    const clientId = await keyedAgent(publicKey);
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' };
    await server.store.updateClient(clientId, { jwks: { keys: [privateJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'k2' }] } });
    const shown = (await (await server.admin('GET', `/agents/${clientId}`)).json()) as { jwks: { keys: Record<string, unknown>[] } };
    assert.equal(shown.jwks.keys.length, 1);
    assert.equal(shown.jwks.keys[0]!['d'], undefined);
    const listed = JSON.stringify(await (await server.admin('GET', '/agents')).json());
    assert.ok(!listed.includes(String(privateJwk.d)) && !listed.includes('c2VjcmV0'), 'no private part in the list');
    const cliShown = cli(['agent', 'show', clientId, '--db', fixture.url, '--json']);
    assert.equal(cliShown.status, 0, cliShown.stderr);
    assert.deepEqual((JSON.parse(cliShown.stdout) as { jwks: { keys: unknown[] } }).jwks.keys, shown.jwks.keys, 'the CLI shows the public half, as the admin API');
    assert.ok(!cliShown.stdout.includes(String(privateJwk.d)) && !cliShown.stdout.includes('c2VjcmV0'), 'no private part from the CLI');
    const cliText = cli(['agent', 'show', clientId, '--db', fixture.url]);
    assert.equal(cliText.status, 0, cliText.stderr);
    assert.ok(!cliText.stdout.includes(String(privateJwk.d)) && !cliText.stdout.includes('c2VjcmV0'), 'nor in its text form');
    // The key verifies through its public half (replace it: its private half sat in the database); the oct key never does.
    assert.equal((await tokenWith(await assertion(clientId, privateKey))).status, 200);
    const hmac = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: 'k2' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(server.issuer)
      .setIssuedAt(server.clock.now())
      .setExpirationTime(server.clock.now() + 60)
      .sign(Buffer.from('secret'));
    await refused(await tokenWith(hmac), 'HS256 with the stored oct key');
    assert.ok(apiKey);
  });
});
