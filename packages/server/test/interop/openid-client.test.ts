import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { startTestServer, type TestServer } from '../helpers/server.ts';
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
  });
  after(() => server.close());

  test('MCP-AS-01 discovery → code + PKCE (S256) → tokens → refresh → userinfo', async () => {
    const config = await client.discovery(new URL(server.issuer), app.clientId, { token_endpoint_auth_method: 'none' }, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const metadata = config.serverMetadata();
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);

    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
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
});
