import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AppAuthClient } from '../../packages/sdk/src/agent/index.ts';
import { createVerifier } from '../../packages/sdk/src/verify/create-verifier.ts';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, isActive } from '../../packages/server/test/helpers/user-flow.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/**
 * `AppAuthClient`, the SDK's client for a plain application (no agent), against the real authorization server: a
 * user signs in through the real pages to a CLI-style app on a loopback redirect, then the app refreshes and revokes.
 */
forEachStore('SDK AppAuthClient: a plain user sign-in against the authorization server', (fixture) => {
  let server: TestServer;
  let apiKey: string;
  let userId: string;
  let app: { clientId: string };
  const email = 'grace@example.com';

  before(async () => {
    server = await startTestServer(fixture);
    ({ apiKey } = await registerAgentAndResource(server));
    userId = await createUser(server, email);
    app = await createApp(server, { name: 'Notes CLI', public: true, redirect_uris: ['http://127.0.0.1/callback'], scopes: ['calc', 'files:read'] });
  });
  after(() => server.close());

  test('RFC 8252 §7.3 loopback sign-in with PKCE, no agent: sub = the user, no act; ID token verified; refresh rotates; revoke ends the grant', async () => {
    const client = new AppAuthClient({ issuer: server.issuer, clientId: app.clientId, clock: () => server.clock.now() * 1000 });
    const signIn = await client.startLoopbackAuthorization({ scope: 'openid email offline_access calc', resource: MCP_RESOURCE });
    assert.equal(new URL(signIn.url).searchParams.get('requested_actor'), null);
    const { location, consentPage } = await signInAndConsent(signIn.url, { email });
    assert.match(consentPage, /Notes CLI/);
    assert.equal((await fetch(location)).status, 200);
    const tokens = await signIn.tokens;
    assert.equal(tokens.subject, userId);
    assert.equal(tokens.actor, undefined);
    assert.equal(tokens.idTokenClaims?.['email'], email);
    assert.ok(tokens.refreshToken?.startsWith('mrt_'));

    const auth = await createVerifier({ issuer: server.issuer, audience: MCP_RESOURCE }).verify(tokens.accessToken);
    assert.equal(auth.subject, userId);
    assert.equal(auth.clientId, app.clientId);
    assert.equal(auth.agentId, undefined);
    assert.deepEqual(auth.actors, []);

    const refreshed = await client.refresh(tokens);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
    assert.equal(refreshed.subject, userId);
    assert.equal(await isActive(server, apiKey, refreshed.accessToken), true);
    await client.revoke(refreshed);
    assert.equal(await isActive(server, apiKey, refreshed.accessToken), false);
    assert.equal(await client.tokenStore.get(tokens.key), undefined);
  });
});
