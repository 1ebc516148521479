import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser } from '../helpers/user-flow.ts';

/**
 * Interop: openid-client (panva), a certified OpenID relying party we did not write, runs discovery, the
 * authorization code flow with PKCE, a refresh and a userinfo call against Mandate. The login and consent in
 * between go through the real pages over HTTP, with their CSRF tokens.
 */
forEachStore('interop: openid-client', (fixture) => {
  let server: TestServer;
  let app: { clientId: string };
  let userId: string;
  const redirectUri = 'http://127.0.0.1:8123/callback';

  before(async () => {
    server = await startTestServer(fixture);
    userId = await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true, redirect_uris: ['http://127.0.0.1/callback'] });
    await registerAgentAndResource(server);
  });
  after(() => server.close());

  /** Discovery as a public client, then an authorization URL with PKCE S256 (and no `resource`). */
  async function start(clientId: string, scope: string, nonce?: string) {
    const config = await client.discovery(new URL(server.issuer), clientId, { token_endpoint_auth_method: 'none' }, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', state, ...(nonce ? { nonce } : {}) });
    return { config, verifier, state, url };
  }

  test('MCP-AS-01 discovery → code + PKCE (S256) → tokens → refresh → userinfo', async () => {
    const nonce = client.randomNonce();
    const { config, verifier, state, url } = await start(app.clientId, 'openid email profile offline_access', nonce);
    const metadata = config.serverMetadata();
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.equal(url.searchParams.has('resource'), false);
    const params = Object.fromEntries(url.searchParams);
    const { response } = await authorizeInBrowser(server, new Browser(), params);
    assert.equal(response.status, 303);
    const callback = new URL(response.headers.get('location')!);
    assert.equal(callback.searchParams.get('iss'), server.issuer);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, userId);
    assert.equal(claims['email'], 'ada@example.com');
    assert.ok(tokens.refresh_token);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');

    const userinfo = await client.fetchUserInfo(config, refreshed.access_token, userId);
    assert.deepEqual(userinfo, { sub: userId, email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace' });
  });

  test('MCP-AS-01 OIDC Core §5.3 no resource, a resource scope: the client’s single audience, and userinfo accepts the token (it was granted openid)', async () => {
    const mcpHost = await createApp(server, { public: true, redirect_uris: ['http://127.0.0.1/callback'], scopes: ['calc'], audiences: [MCP_RESOURCE] });
    const { config, verifier, state, url } = await start(mcpHost.clientId, 'openid email calc');
    const { response } = await authorizeInBrowser(server, new Browser(), Object.fromEntries(url.searchParams));
    const tokens = await client.authorizationCodeGrant(config, new URL(response.headers.get('location')!), { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.scope, 'openid email calc');
    assert.deepEqual(decodeJwt(tokens.access_token).payload['aud'], [MCP_RESOURCE, `${server.issuer}/userinfo`]);
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, userId);
    assert.deepEqual(userinfo, { sub: userId, email: 'ada@example.com', email_verified: true });
  });
});
