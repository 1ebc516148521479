import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppAuthClient } from '../../src/agent/app-client.ts';
import { tokenSetKey } from '../../src/agent/token-store.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

/** The plain application client: a user's sign-in with no agent involved, on the wire against the fixture AS. */
describe('AppAuthClient: authorization code + PKCE, refresh and revocation for a plain app', () => {
  let as: TestIssuer;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const resource = 'https://mcp.example.test/mcp';
  before(async () => {
    as = await startTestIssuer();
    as.addClient({ clientId: 'app_web', secret: 'web-secret' });
    as.setMetadataExtra({ authorization_response_iss_parameter_supported: true });
  });
  after(() => as.close());

  const userToken = () => as.accessToken({ sub: 'usr_alice', client_id: 'app_cli' });

  test('MCP-C-05 the authorization URL: code, the app, PKCE S256, state, resource; no requested_actor', async () => {
    const app = new AppAuthClient({ issuer: as.issuer, clientId: 'app_cli', redirectUri });
    const { url, state } = await app.authorizationUrl({ scope: 'files:read calc', resource });
    const params = new URL(url).searchParams;
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('client_id'), 'app_cli');
    assert.equal(params.get('redirect_uri'), redirectUri);
    assert.equal(params.get('scope'), 'calc files:read');
    assert.deepEqual(params.getAll('resource'), [resource]);
    assert.equal(params.get('state'), state);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('requested_actor'), null);
    assert.equal(params.get('nonce'), null, 'no openid, no nonce');
  });

  test('the code is redeemed by the app alone (no actor_token, no agent token request); the set has no actor and is stored', async () => {
    const app = new AppAuthClient({ issuer: as.issuer, clientId: 'app_cli', redirectUri });
    const { state } = await app.authorizationUrl({ scope: 'files:read offline_access', resource });
    const response = app.handleCallback(`${redirectUri}?code=c1&state=${state}&iss=${encodeURIComponent(as.issuer)}`);
    as.setGrantHandler(() => ({ status: 200, body: { access_token: userToken(), token_type: 'Bearer', expires_in: 300, refresh_token: 'mrt_1' } }));
    const before = as.tokenRequests.length;
    const set = await app.exchangeCode(response);
    assert.equal(as.tokenRequests.length - before, 1);
    const form = as.tokenRequests.at(-1)!;
    assert.equal(form.get('grant_type'), 'authorization_code');
    assert.equal(form.get('client_id'), 'app_cli');
    assert.equal(form.get('code_verifier'), response.codeVerifier);
    assert.equal(form.get('actor_token'), null);
    assert.equal(set.actor, undefined);
    assert.equal(set.subject, 'usr_alice');
    assert.equal(set.key, tokenSetKey({ issuer: as.issuer, clientId: 'app_cli', subject: 'usr_alice', resource: [resource] }));
    assert.deepEqual(await app.tokenStore.get(set.key), set);
  });

  test('getTokenSet refreshes inside the renewal window (RFC 6749 §6, rotation stored); revoke(set) sends the refresh token and forgets the set', async () => {
    let now = Date.now();
    const app = new AppAuthClient({ issuer: as.issuer, clientId: 'app_web', clientSecret: 'web-secret', redirectUri, clock: () => now });
    const { state } = await app.authorizationUrl({ scope: 'files:read offline_access', resource });
    as.setGrantHandler((form, client) => {
      assert.equal(client?.clientId, 'app_web', 'a confidential app authenticates (client_secret_basic)');
      const refresh = form.get('grant_type') === 'refresh_token';
      return { status: 200, body: { access_token: userToken(), token_type: 'Bearer', expires_in: 300, refresh_token: refresh ? 'mrt_rotated' : 'mrt_first' } };
    });
    const set = await app.exchangeCode(app.handleCallback(`${redirectUri}?code=c2&state=${state}&iss=${encodeURIComponent(as.issuer)}`));
    assert.equal((await app.getTokenSet(set.key))?.refreshToken, 'mrt_first', 'fresh: served from the store');
    now += 250_000;
    const refreshed = await app.getTokenSet(set.key);
    assert.equal(refreshed?.refreshToken, 'mrt_rotated');
    const form = as.tokenRequests.at(-1)!;
    assert.equal(form.get('refresh_token'), 'mrt_first');
    assert.deepEqual(form.getAll('resource'), [resource]);
    await app.revoke(refreshed!);
    const revocation = as.revocationRequests.at(-1)!;
    assert.equal(revocation.form.get('token'), 'mrt_rotated');
    assert.equal(revocation.form.get('token_type_hint'), 'refresh_token');
    assert.match(revocation.authorization ?? '', /^Basic /);
    assert.equal(await app.tokenStore.get(set.key), undefined);
  });

  test('ISS-02 a response without iss from an AS that advertises it → ERR_AUTHORIZATION_ISSUER_MISMATCH', async () => {
    const app = new AppAuthClient({ issuer: as.issuer, clientId: 'app_cli', redirectUri });
    const { state } = await app.authorizationUrl({ scope: 'files:read', resource });
    assert.throws(() => app.handleCallback(`${redirectUri}?code=c&state=${state}`), { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH', reason: 'missing' });
  });

  test('misuse is a TypeError: no client id, no redirect URI, a bad issuer', async () => {
    assert.throws(() => new AppAuthClient({ issuer: as.issuer, clientId: '' }), TypeError);
    assert.throws(() => new AppAuthClient({ issuer: 'http://example.com', clientId: 'app' }), TypeError);
    await assert.rejects(new AppAuthClient({ issuer: as.issuer, clientId: 'app_cli' }).authorizationUrl({ scope: 'x' }), TypeError);
  });
});
