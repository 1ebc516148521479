import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { exportJWK } from 'jose';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { send } from './fuzz-harness.ts';
import { signEs256 } from './proof-targets.ts';
import { createApp, createUser } from '../helpers/user-flow.ts';

/** Regression tests for what fuzzing found (docs/security.md, Fuzzing). */
forEachStore('fuzzing findings', (fixture) => {
  let server: TestServer;
  before(async () => void (server = await startTestServer(fixture)));
  after(() => server.close());

  test('SR-FUZZ-01 a path parameter that is not UTF-8 (%ED%A0%80, a lone surrogate) is a 400 problem+json, not Fastify\'s own error body', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/%ED%A0%80', '/admin/v1/agents/%ED%A0%80', '/admin/v1/clients/%C0%80/disable']) {
      const response = await send(server.issuer, { method: 'GET', path, headers: { authorization: `Bearer ${server.adminToken}` } });
      assert.equal(response.status, 400, path);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/, path);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      assert.equal(body['type'], 'urn:mandate:problem:invalid-request', `${path}: ${response.body}`);
      assert.equal(body['code'], undefined, 'no Fastify error code leaks');
    }
  });

  test('SR-FUZZ-02 a DPoP proof or client assertion whose NumericDate has a fraction (iat, exp of x.5) is judged, not a 500; its replay is still refused', async () => {
    const ec = async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { privateKey, jwk: await exportJWK(publicKey) };
    };
    const now = server.clock.now();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const token = (headers: Record<string, string>, body: string) => send(server.issuer, { method: 'POST', path: '/token', headers: { ...form, ...headers }, body });

    // RFC 9449 §4.2 `iat` is a NumericDate (RFC 7519 §2: it may have a fraction).
    const agent = await registerAgentAndResource(server, { name: 'fractional dpop' });
    const dpop = await ec();
    const proof = signEs256(dpop.privateKey, { typ: 'dpop+jwt', alg: 'ES256', jwk: dpop.jwk }, { jti: randomUUID(), htm: 'POST', htu: `${server.issuer}/token`, iat: now + 0.5 });
    const auth = { authorization: basicAuth(agent.clientId, agent.clientSecret) };
    const first = await token({ ...auth, dpop: proof }, 'grant_type=client_credentials');
    assert.equal(first.status, 200, first.body);
    assert.equal(JSON.parse(first.body).token_type, 'DPoP');
    const again = await token({ ...auth, dpop: proof }, 'grant_type=client_credentials');
    assert.equal(again.status, 400, again.body);
    assert.equal(JSON.parse(again.body).error, 'invalid_dpop_proof');

    // RFC 7523 §3 `exp` of a client assertion, likewise.
    const key = await ec();
    const created = await server.admin('POST', '/agents', {
      name: 'fractional assertion', scopes: ['calc'], audiences: [MCP_RESOURCE], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...key.jwk, kid: 'k1', alg: 'ES256' }] },
    });
    assert.equal(created.status, 201);
    const clientId = ((await created.json()) as { client_id: string }).client_id;
    const assertion = signEs256(key.privateKey, { alg: 'ES256', kid: 'k1' }, { iss: clientId, sub: clientId, aud: server.issuer, iat: now, exp: now + 60.5, jti: randomUUID() });
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString();
    const byKey = await token({}, body);
    assert.equal(byKey.status, 200, byKey.body);
    const replayed = await token({}, body);
    assert.equal(replayed.status, 401, replayed.body);
    assert.equal(JSON.parse(replayed.body).error, 'invalid_client');
  });

  test('SR-FUZZ-03 a jwt-bearer assertion whose auth_time is past what a grant holds (1e20), in the future or not a number is invalid_grant, not a 500; a fraction is kept whole', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issuer = 'https://workloads.example';
    const trusting = await startTestServer(fixture, { crossDomain: { trustedIssuers: [{ issuer, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'w1', alg: 'ES256' }] }, subject: 'email', scopes: ['calc'] }] } });
    try {
      await registerAgentAndResource(trusting, { name: 'sr-fuzz-03' });
      const client = await createApp(trusting, { grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'], audiences: [MCP_RESOURCE], scopes: ['calc'] });
      const email = `sr-fuzz-03-${randomUUID()}@example.com`;
      const userId = await createUser(trusting, email);
      const now = trusting.clock.now();
      const redeem = async (authTime: unknown) => {
        const assertion = signEs256(privateKey, { alg: 'ES256', kid: 'w1' }, { iss: issuer, sub: 'w', aud: trusting.issuer, email, iat: now, exp: now + 120, jti: randomUUID(), auth_time: authTime });
        const response = await trusting.postForm('/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: MCP_RESOURCE, scope: 'calc' }, { authorization: basicAuth(client.clientId, client.clientSecret!) });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      for (const bad of [1e20, now + 3600, -1, 'yesterday']) {
        const refused = await redeem(bad);
        assert.equal(refused.status, 400, `${bad}: ${JSON.stringify(refused.body)}`);
        assert.equal(refused.body['error'], 'invalid_grant');
      }
      const fraction = await redeem(now - 30.5);
      assert.equal(fraction.status, 200, JSON.stringify(fraction.body));
      assert.equal(decodeJwt(String(fraction.body['access_token'])).payload['sub'], userId);
      // The user's grant holds the authentication time in whole seconds.
      assert.deepEqual((await fixture.store.listUserGrants(userId)).map((g) => g.authTime), [Math.floor(now - 30.5)]);
    } finally {
      await trusting.close();
    }
  });
});
