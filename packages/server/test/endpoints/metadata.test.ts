import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startServer } from '../../src/server.ts';
import { basicAuth, freePort, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('metadata and JWKS', (fixture) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  test('ASM-01 RFC 8414 metadata: issuer equals the URL prefix, JSON, only implemented features', async () => {
    const response = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.equal(metadata['issuer'], server.issuer);
    assert.equal(metadata['token_endpoint'], `${server.issuer}/token`);
    assert.equal(metadata['jwks_uri'], `${server.issuer}/jwks.json`);
    assert.ok((metadata['grant_types_supported'] as string[]).includes('client_credentials'));
    // Every advertised endpoint answers (a GET on a POST-only endpoint is 405, never 404).
    for (const key of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'jwks_uri']) {
      const status = (await fetch(metadata[key] as string)).status;
      assert.ok(status === 200 || status === 405, `${key} → ${status}`);
    }
  });

  test('OIDC discovery at /.well-known/openid-configuration carries the same issuer', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(metadata['issuer'], server.issuer);
    assert.deepEqual(metadata['subject_types_supported'], ['public']);
  });

  test('JWKS: public keys only, with kid/alg/use, Cache-Control, and it verifies issued tokens', async () => {
    const response = await fetch(`${server.issuer}/jwks.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('cache-control') ?? '', /max-age=\d+/);
    const jwks = (await response.json()) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 1);
    const [key] = jwks.keys;
    assert.equal(key!['alg'], 'ES256');
    assert.equal(key!['use'], 'sig');
    assert.equal(key!['d'], undefined, 'no private member');

    const agent = await registerAgentAndResource(server);
    const tokenResponse = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const { access_token } = (await tokenResponse.json()) as { access_token: string };
    const { payload, protectedHeader } = await jwtVerify(access_token, createLocalJWKSet(jwks as never), {
      issuer: server.issuer,
      audience: MCP_RESOURCE,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.kid, key!['kid']);
    assert.equal(payload.sub, agent.clientId);
  });

  test('unknown path → 404 problem+json; wrong method → 405 with Allow', async () => {
    const missing = await fetch(`${server.issuer}/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const wrongMethod = await fetch(`${server.issuer}/token`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST, OPTIONS', 'OPTIONS: the CORS preflight');
  });
});

forEachStore('issuer with a path', (fixture) => {
  test('RFC 8414 §3: the well-known suffix goes between host and path; endpoints live under the path', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const tenant = await startServer({ port, issuer: `${origin}/tenant1`, databaseUrl: fixture.url, logLevel: 'silent', keys: { kek: randomBytes(32).toString('base64url') } });
    try {
      const oauth = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/tenant1`)).json()) as Record<string, unknown>;
      assert.equal(oauth['issuer'], `${origin}/tenant1`);
      assert.equal(oauth['token_endpoint'], `${origin}/tenant1/token`);
      for (const url of [`${origin}/tenant1/.well-known/openid-configuration`, `${origin}/.well-known/openid-configuration/tenant1`]) {
        assert.equal(((await (await fetch(url)).json()) as Record<string, unknown>)['issuer'], `${origin}/tenant1`, url);
      }
      assert.equal((await fetch(`${origin}/tenant1/jwks.json`)).status, 200);
      assert.equal((await fetch(`${origin}/.well-known/oauth-authorization-server`)).status, 404);
    } finally {
      await tenant.close();
    }
  });
});
