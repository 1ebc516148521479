import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { basicAuth, decodeJwt, formBody, freePort, registerAgentAndResource, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, createApp, createUser, inputValue, obtainCode, PASSWORD, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';
import { mandateEnv, PROCESS_TIMEOUT_MS, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';

/**
 * Issue 13 item 1: two `mandate serve` processes on one database (PostgreSQL, and SQLite shared by two processes on
 * one machine), as a deployment behind a load balancer runs them. Every race is run for real: both instances get
 * the same credential at the same moment, and the database decides.
 */

/**
 * One instance, as the shared test helpers use a server: its own base URL (both share one issuer, as instances behind
 * a load balancer do; here it is the first one's URL), a form POST, the admin API.
 */
function instance(port: number, adminToken: string): TestServer {
  const issuer = `http://localhost:${port}`;
  const endpoint = {
    issuer,
    postForm: (path: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
      fetch(`${issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: formBody(params) }),
    admin: (method: string, path: string, body?: unknown) =>
      fetch(`${issuer}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  };
  // The helpers read only these three members of a TestServer.
  return endpoint as unknown as TestServer;
}

/** Polls `check` until it holds: the signal that another instance has caught up (a reload, a commit). */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${PROCESS_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

forEachStore('two instances on one database', (fixture) => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-multi-'));
  let processes: ServerProcess[] = [];
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    // Keys re-read every second (default 30), so that a rotation elsewhere reaches both within the test; login locks
    // long enough that no slow machine sees one expire.
    const configFile = join(dir, 'mandate.json');
    writeFileSync(configFile, JSON.stringify({ keys: { reloadIntervalSeconds: 1 }, users: { accountFreeFailures: 2, baseLockSeconds: 600, maxLockSeconds: 900 } }));
    const ports = [await freePort(), await freePort()] as const;
    const env = { ...mandateEnv(fixture.url), MANDATE_CONFIG_FILE: configFile, MANDATE_ISSUER: `http://localhost:${ports[0]}` };
    const { token } = await runCliJson<{ token: string }>(['admin-token', 'create', '--name', 'multi-instance'], env);
    processes = await Promise.all(ports.map((port) => startServerProcess(port, env)));
    a = instance(ports[0], token);
    b = instance(ports[1], token);
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const introspect = async (server: TestServer, apiKey: string, token: string) =>
    ((await (await server.postForm('/introspect', { token }, { authorization: `Bearer ${apiKey}` })).json()) as { active: boolean }).active;

  // Rounds of each race: one round may happen to serialise the requests; twenty give the database real contention.
  const ROUNDS = 20;

  test('MULTI-01 a code redeemed at once on both instances succeeds exactly once; the replays are refused and end the grant everywhere', async () => {
    const resource = 'https://code.example.com/mcp';
    const { apiKey } = await registerAgentAndResource(a, {}, resource);
    await createUser(a, 'code@example.com');
    const app = await createApp(a, { scopes: ['calc'], audiences: [resource] });
    const flow = { clientId: app.clientId, clientSecret: app.clientSecret, scope: 'calc offline_access', resource, email: 'code@example.com' };
    const browser = new Browser();
    for (let round = 1; round <= ROUNDS; round++) {
      const { code, verifier } = await obtainCode(round % 2 ? a : b, flow, browser);
      const responses = await Promise.all([a, b, a, b, a, b].map((server) => redeemCode(server, flow, code, verifier)));
      // One UPDATE hands the code to one request, which reads its grant before that commits; the others see a used
      // code: a replay, refused (OAuth 2.1 §4.1.3: MUST deny).
      const statuses = responses.map((r) => r.status);
      assert.deepEqual([...statuses].sort(), [200, 400, 400, 400, 400, 400], `round ${round}: ${statuses.join(' ')}`);
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as { error?: string; access_token?: string; refresh_token?: string }[];
      assert.deepEqual(bodies.filter((b) => b.error).map((b) => b.error), Array(5).fill('invalid_grant'), `round ${round}`);
      // ... and SHOULD revoke what the code gave (OAuth 2.1 §4.1.3, RFC 9700 §4.5.3.1, BCP-03): a used code presented
      // again means someone else holds it, and the server cannot tell which of the two is the legitimate client.
      const winner = bodies.find((b) => b.access_token)!;
      assert.equal(await introspect(a, apiKey, winner.access_token!), false, `round ${round}`);
      assert.equal(await introspect(b, apiKey, winner.access_token!), false, `round ${round}`);
      const refreshed = await b.postForm('/token', { grant_type: 'refresh_token', refresh_token: winner.refresh_token! }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
      assert.equal(refreshed.status, 400, `round ${round}`);
      // The code is spent.
      assert.equal((await redeemCode(round % 2 ? b : a, flow, code, verifier)).status, 400);
    }
  });

  test('MULTI-02 a refresh token rotated at once on both instances succeeds exactly once; the reuse is detected and ends the family', async () => {
    const resource = 'https://refresh.example.com/mcp';
    const { apiKey } = await registerAgentAndResource(a, {}, resource);
    await createUser(a, 'refresh@example.com');
    const app = await createApp(a, { scopes: ['calc'], audiences: [resource] });
    const flow = { clientId: app.clientId, clientSecret: app.clientSecret, scope: 'calc offline_access', resource, email: 'refresh@example.com' };
    const browser = new Browser();
    const refresh = (server: TestServer, refreshToken: string) =>
      server.postForm('/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
    for (let round = 1; round <= ROUNDS; round++) {
      const { code, verifier } = await obtainCode(round % 2 ? b : a, flow, browser);
      const first = (await (await redeemCode(b, flow, code, verifier)).json()) as { refresh_token: string };

      const responses = await Promise.all([refresh(a, first.refresh_token), refresh(b, first.refresh_token)]);
      assert.deepEqual(responses.map((r) => r.status).sort(), [200, 400], `round ${round}`);
      const rotated = (await responses.find((r) => r.status === 200)!.json()) as { access_token: string; refresh_token: string };
      assert.equal(((await responses.find((r) => r.status === 400)!.json()) as { error: string }).error, 'invalid_grant');

      // The losing request presented a used refresh token: reuse (RFC 9700 §4.14.2) revokes the whole family.
      assert.equal(await introspect(a, apiKey, rotated.access_token), false, `round ${round}`);
      assert.equal(await introspect(b, apiKey, rotated.access_token), false, `round ${round}`);
      assert.equal((await refresh(round % 2 ? a : b, rotated.refresh_token)).status, 400, `round ${round}`);
    }
  });

  test('MULTI-03 a key rotated through one instance is published and used by both; each verifies the other’s tokens', async () => {
    const resource = 'https://keys.example.com/mcp';
    const agent = await registerAgentAndResource(a, {}, resource);
    const tokenFrom = async (server: TestServer) => {
      const response = await server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      assert.equal(response.status, 200);
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const jwksKids = async (server: TestServer) => ((await (await fetch(`${server.issuer}/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

    // Published ahead of its use (SR-08): every instance shows the new key before any signs with it, then both switch.
    const rotated = await a.admin('POST', '/keys/rotate', { publish_ahead_seconds: 5 });
    assert.equal(rotated.status, 200, await rotated.clone().text());
    const { kid, activates_at } = (await rotated.json()) as { kid: string; activates_at: number };
    const early = await tokenFrom(a);
    if (Date.now() / 1000 < activates_at - 1) assert.notEqual(decodeJwt(early).header['kid'], kid, 'no instance signs with a key before its time');
    await eventually('B publishes the new key', async () => (await jwksKids(b)).includes(kid));
    assert.ok((await jwksKids(a)).includes(kid));
    await eventually('A signs with the new key', async () => decodeJwt(await tokenFrom(a)).header['kid'] === kid);
    await eventually('B signs with the new key', async () => decodeJwt(await tokenFrom(b)).header['kid'] === kid);
    // Each verifies the other's tokens, and the ones signed before the switch.
    assert.equal(await introspect(b, agent.apiKey, await tokenFrom(a)), true);
    assert.equal(await introspect(a, agent.apiKey, await tokenFrom(b)), true);
    assert.equal(await introspect(b, agent.apiKey, early), true);
  });

  test('MULTI-06 a client assertion used on one instance is refused on the other (its jti is single-use everywhere)', async () => {
    const resource = 'https://assert.example.com/mcp';
    await registerAgentAndResource(a, {}, resource);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const created = await a.admin('POST', '/agents', {
      name: 'keyed', scopes: ['calc'], audiences: [resource], token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] },
    });
    assert.equal(created.status, 201);
    const clientId = ((await created.json()) as { client_id: string }).client_id;
    // Both instances share one issuer, which is the assertion's audience at either.
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId).setSubject(clientId).setAudience(a.issuer).setIssuedAt().setExpirationTime('2m').sign(privateKey);
    const token = (server: TestServer) =>
      server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    assert.equal((await token(a)).status, 200);
    const replayed = await token(b);
    assert.equal(replayed.status, 401);
    assert.equal(((await replayed.json()) as { error: string }).error, 'invalid_client');
  });

  test('MULTI-07 a DPoP proof used on one instance is refused on the other (its jti is remembered by the database)', async () => {
    const resource = 'https://dpop.example.com/mcp';
    const agent = await registerAgentAndResource(a, {}, resource);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const proof = await new SignJWT({ htm: 'POST', htu: `${a.issuer}/token`, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) }).setIssuedAt().sign(privateKey);
    const token = (server: TestServer) =>
      server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource }, { authorization: basicAuth(agent.clientId, agent.clientSecret), dpop: proof });
    const first = await token(a);
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal(((await first.json()) as { token_type: string }).token_type, 'DPoP');
    const replayed = await token(b);
    assert.equal(replayed.status, 400);
    assert.equal(((await replayed.json()) as { error: string }).error, 'invalid_dpop_proof');
  });

  test('MULTI-04 login throttling is shared: failures on both instances lock the account on both', async () => {
    await createUser(a, 'throttle@example.com');
    const login = async (server: TestServer, password: string) => {
      const browser = new Browser();
      const page = await (await browser.fetch(`${server.issuer}/login`)).text();
      return browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: inputValue(page, 'return_to'), email: 'throttle@example.com', password });
    };
    // accountFreeFailures 2: the first failure (on A) is free, the second (on B) counts with it and locks the account.
    assert.equal((await login(a, 'wrong one')).status, 401);
    assert.equal((await login(b, 'wrong two')).status, 401);
    // Locked on both, for ten minutes: even the right password is refused, before it is checked.
    for (const server of [b, a]) {
      const locked = await login(server, PASSWORD);
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) > 500);
    }
  });
});
