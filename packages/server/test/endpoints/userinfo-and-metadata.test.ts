import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { agentToken, createApp, createUser, obtainCode, redeemCode } from '../helpers/user-flow.ts';

forEachStore('metadata, userinfo, admin routes for users and clients', (fixture) => {
  let server: TestServer;
  let app: { clientId: string };
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true });
  });
  after(() => server.close());

  test('ASM-01 MCP-AS-01 MCP-AS-04 metadata advertises exactly the user-facing features that work', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${server.issuer}${path}`)).json()) as Record<string, unknown>;
      assert.equal(metadata['authorization_endpoint'], `${server.issuer}/authorize`);
      assert.equal(metadata['userinfo_endpoint'], `${server.issuer}/userinfo`);
      assert.deepEqual(metadata['response_types_supported'], ['code']);
      assert.deepEqual(metadata['response_modes_supported'], ['query']);
      assert.deepEqual(metadata['code_challenge_methods_supported'], ['S256']);
      assert.equal(metadata['authorization_response_iss_parameter_supported'], true);
      assert.ok((metadata['token_endpoint_auth_methods_supported'] as string[]).includes('none'));
      for (const scope of ['openid', 'profile', 'email', 'offline_access', 'calc']) assert.ok((metadata['scopes_supported'] as string[]).includes(scope), scope);
      for (const grant of ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange']) {
        assert.ok((metadata['grant_types_supported'] as string[]).includes(grant), grant);
      }
    }
    const oidc = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.ok((oidc['claims_supported'] as string[]).includes('email_verified'));
  });

  test('userinfo: no token → 401 challenge without error; a token for a resource alone → invalid_token; a valid one → claims', async () => {
    const none = await fetch(`${server.issuer}/userinfo`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate')!, /^Bearer realm="mandate", DPoP algs="ES256 [^"]+"$/, 'both schemes are offered (RFC 9449 §7.1)');

    // Another client, so that no earlier grant of openid is kept beside calc (incremental authorization).
    const other = await createApp(server, { public: true });
    const resourceOptions = { clientId: other.clientId, scope: 'calc', resource: MCP_RESOURCE };
    const first = await obtainCode(server, resourceOptions);
    const forResource = (await (await redeemCode(server, resourceOptions, first.code, first.verifier)).json()) as { access_token: string };
    const wrongAudience = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${forResource.access_token}` } });
    assert.equal(wrongAudience.status, 401);
    assert.match(wrongAudience.headers.get('www-authenticate')!, /error="invalid_token"/);

    const agentOwn = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${await agentToken(server, agent)}` } });
    assert.equal(agentOwn.status, 401);

    const options = { clientId: app.clientId, scope: 'openid email' };
    const { code, verifier } = await obtainCode(server, options);
    const tokens = (await (await redeemCode(server, options, code, verifier)).json()) as { access_token: string };
    const ok = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(ok.status, 200);
    const claims = (await ok.json()) as Record<string, unknown>;
    assert.equal(claims['email'], 'ada@example.com');
    assert.equal(claims['name'], undefined, 'no profile scope, no name');
    const post = await fetch(`${server.issuer}/userinfo`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(post.status, 200);
  });

  test('every /admin/v1 user and client route answers 401 without credentials', async () => {
    const routes: [string, string][] = [
      ['GET', '/users'], ['POST', '/users'], ['GET', '/users/x'], ['PATCH', '/users/x'], ['POST', '/users/x/disable'], ['POST', '/users/x/enable'], ['DELETE', '/users/x'],
      ['GET', '/clients'], ['POST', '/clients'], ['GET', '/clients/x'], ['PATCH', '/clients/x'], ['POST', '/clients/x/disable'], ['POST', '/clients/x/enable'], ['DELETE', '/clients/x'],
    ];
    for (const [method, path] of routes) {
      const response = await fetch(`${server.issuer}/admin/v1${path}`, { method });
      assert.equal(response.status, 401, `${method} ${path}`);
    }
  });

  test('admin API: users and clients validate input as problem+json and never echo a password', async () => {
    const weak = await server.admin('POST', '/users', { email: 'weak@example.com', password: 'short' });
    assert.equal(weak.status, 400);
    assert.match(weak.headers.get('content-type')!, /problem\+json/);
    const duplicate = await server.admin('POST', '/users', { email: 'ADA@example.com', password: 'long enough pw' });
    assert.equal(duplicate.status, 409);
    const created = await server.admin('POST', '/users', { email: 'new@example.com', password: 'long enough pw' });
    assert.doesNotMatch(await created.text(), /long enough pw|scrypt/);
    const badRedirect = await server.admin('POST', '/clients', { name: 'x', redirect_uris: ['http://evil.example/cb'] });
    assert.equal(badRedirect.status, 400);
    const confidential = await server.admin('POST', '/clients', { name: 'x', redirect_uris: ['https://x.example/cb'] });
    assert.equal(confidential.status, 201);
    assert.match(((await confidential.json()) as { client_secret: string }).client_secret, /^[A-Za-z0-9_-]{43}$/);
  });
});
