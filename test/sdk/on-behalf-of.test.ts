import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AgentAuthClient, tokenSetKey } from '../../packages/sdk/src/agent/index.ts';
import type { AgentAuthClientOptions, AuthorizationResponse } from '../../packages/sdk/src/agent/index.ts';
import { createVerifier } from '../../packages/sdk/src/verify/create-verifier.ts';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, isActive } from '../../packages/server/test/helpers/user-flow.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/**
 * `@mandate/sdk`'s on-behalf-of client against the real authorization server over HTTP: the agent builds the
 * authorization request, the user signs in and consents, the SDK checks the response and redeems the code with the
 * agent's actor token (its own token for the issuer) as `actor_token`; then refresh, exchange and revocation. Every refusal the server makes is
 * checked to reach the caller as a coded error.
 */
forEachStore('SDK on-behalf-of against the authorization server', (fixture) => {
  let server: TestServer;
  let apiKey: string;
  let agent: { clientId: string; clientSecret: string };
  let otherAgent: { clientId: string; clientSecret: string };
  let app: { clientId: string };
  let userId: string;
  const email = 'ada@example.com';
  const redirectUri = 'http://127.0.0.1/callback';

  before(async () => {
    // Codes live 10 minutes here so that a test can let an actor token (60 s) expire while its code is still good.
    server = await startTestServer(fixture, { authorization: { codeTtlSeconds: 600 } });
    const registered = await registerAgentAndResource(server, { name: 'Research Assistant', owner: 'owner@example.com', access_token_ttl_seconds: 60 });
    apiKey = registered.apiKey;
    agent = registered;
    otherAgent = await registerAgentAndResource(server, { name: 'Other Agent' });
    userId = await createUser(server, email);
    app = await createApp(server, { name: 'Agent Console', public: true, redirect_uris: [redirectUri] });
  });
  after(() => server.close());

  /** An SDK client for `credentials` with the application, on the server's (movable) clock. */
  const sdk = (credentials = agent, extra: Partial<AgentAuthClientOptions> = {}) =>
    new AgentAuthClient({
      issuer: server.issuer,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      app: { clientId: app.clientId, redirectUri },
      clock: server.clock.nowMs,
      ...extra,
    });

  async function authorize(client: AgentAuthClient, scope = 'openid email offline_access calc'): Promise<AuthorizationResponse> {
    const { url } = await client.authorizationUrl({ scope, resource: MCP_RESOURCE });
    return client.handleCallback((await signInAndConsent(url, { email })).location);
  }

  test('OBO-03 authorizationUrl → sign-in and consent → handleCallback → exchangeCode: sub = the user, act = the agent; ID token verified; stored', async () => {
    const client = sdk();
    const { url, state } = await client.authorizationUrl({ scope: 'openid email offline_access calc', resource: MCP_RESOURCE });
    const sent = new URL(url).searchParams;
    assert.equal(sent.get('client_id'), app.clientId);
    assert.equal(sent.get('requested_actor'), agent.clientId);
    assert.equal(sent.get('redirect_uri'), redirectUri);
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.match(sent.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(sent.get('state'), state);
    assert.match(sent.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(sent.getAll('resource'), [MCP_RESOURCE]);

    const { location, consentPage } = await signInAndConsent(url, { email });
    assert.match(consentPage, /Research Assistant/);
    assert.equal(new URL(location).searchParams.get('iss'), server.issuer);
    const response = client.handleCallback(location);
    const tokens = await client.exchangeCode(response);

    assert.equal(tokens.subject, userId);
    assert.equal(tokens.actor, agent.clientId);
    assert.equal(tokens.clientId, app.clientId);
    assert.deepEqual(tokens.resource, [MCP_RESOURCE]);
    assert.ok(tokens.refreshToken?.startsWith('mrt_'));
    assert.equal(tokens.idTokenClaims?.['email'], email);
    assert.equal(tokens.key, tokenSetKey({ issuer: server.issuer, clientId: app.clientId, actor: agent.clientId, subject: userId, resource: [MCP_RESOURCE] }));
    assert.deepEqual(await client.tokenStore.get(tokens.key), tokens);

    const auth = await createVerifier({ issuer: server.issuer, audience: MCP_RESOURCE, clock: server.clock.nowMs }).verify(tokens.accessToken);
    assert.equal(auth.subject, userId);
    assert.equal(auth.clientId, app.clientId);
    assert.equal(auth.agentId, agent.clientId);
    assert.deepEqual(auth.actors.map((a) => a.subject), [agent.clientId]);
  });

  test('RFC 8252 §7.3 startLoopbackAuthorization: the browser comes back to 127.0.0.1 on an ephemeral port, where the code is redeemed', async () => {
    const client = sdk();
    const signIn = await client.startLoopbackAuthorization({ scope: 'calc', resource: MCP_RESOURCE });
    assert.match(signIn.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const { location } = await signInAndConsent(signIn.url, { email });
    assert.ok(location.startsWith(`${signIn.redirectUri}?`), location);
    const page = await fetch(location);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Signed in/);
    const tokens = await signIn.tokens;
    assert.equal(tokens.subject, userId, 'without openid the user comes from the access token');
    assert.equal(tokens.actor, agent.clientId);
    assert.equal(tokens.refreshToken, undefined, 'no offline_access, no refresh token');
    await assert.rejects(fetch(location), 'the listener has closed');
  });

  test('BCP-03 a code redeemed twice → ERR_TOKEN_REQUEST_FAILED invalid_grant, and the first redemption’s tokens are revoked', async () => {
    const client = sdk();
    const response = await authorize(client);
    const first = await client.exchangeCode(response);
    assert.equal(await isActive(server, apiKey, first.accessToken), true);
    await assert.rejects(client.exchangeCode(response), { code: 'ERR_TOKEN_REQUEST_FAILED', status: 400, error: 'invalid_grant', errorDescription: /already used/ });
    assert.equal(await isActive(server, apiKey, first.accessToken), false);
  });

  test('BCP-02 a code injected into another authorization’s response (PKCE verifier mismatch) → ERR_TOKEN_REQUEST_FAILED invalid_grant', async () => {
    const client = sdk();
    const victim = await authorize(client);
    const attacker = await authorize(client);
    await assert.rejects(client.exchangeCode({ ...victim, code: attacker.code }), {
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_grant',
      errorDescription: /code_verifier does not match/,
    });
  });

  test('OBO-02 an actor_token of another agent → ERR_TOKEN_REQUEST_FAILED invalid_grant', async () => {
    const client = sdk();
    const response = await authorize(client);
    const foreign = await sdk(otherAgent).getActorToken();
    await assert.rejects(client.exchangeCode(response, { actorToken: foreign.accessToken }), {
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_grant',
      errorDescription: /does not belong to the agent/,
    });
  });

  test('SR-04 the agent’s own token for a resource is no actor token → ERR_TOKEN_REQUEST_FAILED invalid_grant; the default (getActorToken) works', async () => {
    const client = sdk();
    const forResource = await client.getAgentToken({ resource: MCP_RESOURCE });
    await assert.rejects(client.exchangeCode(await authorize(client), { actorToken: forResource.accessToken }), {
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_grant',
      errorDescription: /audience is not this authorization server/,
    });
    const tokens = await client.exchangeCode(await authorize(client));
    assert.equal(tokens.actor, client.clientId);
  });

  test('OBO-02 an expired actor token → ERR_TOKEN_REQUEST_FAILED invalid_grant', async () => {
    const client = sdk();
    const response = await authorize(client);
    const actor = await client.getActorToken();
    server.clock.advance(61);
    await assert.rejects(client.exchangeCode(response, { actorToken: actor.accessToken }), {
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_grant',
      errorDescription: /expired/,
    });
  });

  test('BCP-04 refresh rotates the refresh token and keeps the user and the agent; getDelegatedToken refreshes near expiry', async () => {
    const client = sdk();
    const tokens = await client.exchangeCode(await authorize(client));
    assert.equal((await client.getDelegatedToken(tokens.key))?.accessToken, tokens.accessToken, 'fresh: served from the store');
    const refreshed = await client.refresh(tokens);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
    assert.notEqual(refreshed.accessToken, tokens.accessToken);
    assert.equal(refreshed.key, tokens.key);
    assert.equal(refreshed.subject, userId);
    assert.deepEqual(await client.tokenStore.get(tokens.key), refreshed);
    const auth = await createVerifier({ issuer: server.issuer, audience: MCP_RESOURCE, clock: server.clock.nowMs }).verify(refreshed.accessToken);
    assert.equal(auth.agentId, agent.clientId);

    server.clock.advance((refreshed.expiresAt ?? 0) - server.clock.now() - 30);
    const renewed = await client.getDelegatedToken(tokens.key);
    assert.notEqual(renewed?.refreshToken, refreshed.refreshToken, 'inside the renewal window: refreshed');
  });

  test('BCP-04 a rotated refresh token used again (a copy of the set elsewhere) → ERR_TOKEN_REQUEST_FAILED invalid_grant; the family is revoked and the stored set deleted', async () => {
    const client = sdk();
    const tokens = await client.exchangeCode(await authorize(client));
    const refreshed = await client.refresh(tokens.key);
    const elsewhere = sdk(); // its own memory store: it only has the old copy
    await assert.rejects(elsewhere.refresh(tokens), { code: 'ERR_TOKEN_REQUEST_FAILED', error: 'invalid_grant', errorDescription: /already used/ });
    assert.equal(await isActive(server, apiKey, refreshed.accessToken), false, 'the whole family is revoked');
    await assert.rejects(client.refresh(tokens.key), { code: 'ERR_TOKEN_REQUEST_FAILED', error: 'invalid_grant' });
    assert.equal(await client.tokenStore.get(tokens.key), undefined);
    assert.equal(await client.getDelegatedToken(tokens.key), undefined);
  });

  test('BCP-04 concurrent refreshes of one set share one request, so the client never trips reuse detection itself', async () => {
    const client = sdk();
    const tokens = await client.exchangeCode(await authorize(client));
    const all = await Promise.all(Array.from({ length: 5 }, () => client.refresh(tokens.key)));
    assert.equal(new Set(all.map((t) => t.refreshToken)).size, 1);
    const scoped = await Promise.all([client.refresh(tokens.key, { scope: ['calc'] }), client.refresh(tokens.key, { scope: ['calc'] })]);
    assert.notEqual(scoped[0].refreshToken, scoped[1].refreshToken, 'narrowed refreshes run one after the other');
    assert.equal(await isActive(server, apiKey, scoped[1].accessToken), true);
  });

  test('TE-06 exchange: the user’s token handed to another agent (audience = its id), which exchanges it for the resource; act nests the chain', async () => {
    const planner = sdk();
    const tokens = await planner.exchangeCode(await authorize(planner));
    const handOff = await planner.exchange({ subjectToken: tokens.accessToken, audience: otherAgent.clientId });
    assert.equal(handOff.issuedTokenType, 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(handOff.tokenType, 'Bearer');
    const researcher = sdk(otherAgent);
    const forResource = await researcher.exchange({ subjectToken: handOff.accessToken, resource: MCP_RESOURCE, scope: 'calc' });
    assert.deepEqual(forResource.scope, ['calc']);
    const auth = await createVerifier({ issuer: server.issuer, audience: MCP_RESOURCE, clock: server.clock.nowMs }).verify(forResource.accessToken);
    assert.equal(auth.subject, userId);
    assert.deepEqual(auth.actors.map((a) => a.subject), [otherAgent.clientId, agent.clientId]);
    await assert.rejects(researcher.exchange({ subjectToken: tokens.accessToken, resource: MCP_RESOURCE, actorToken: null }), {
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_request',
    });
  });

  test('RV-03 revoke(tokenSet) revokes the refresh token and with it the grant’s access tokens; the set leaves the store', async () => {
    const client = sdk();
    const tokens = await client.exchangeCode(await authorize(client));
    await client.revoke(tokens);
    assert.equal(await isActive(server, apiKey, tokens.accessToken), false);
    assert.equal(await client.tokenStore.get(tokens.key), undefined);
    const own = await client.getAgentToken({ resource: MCP_RESOURCE });
    await client.revoke(own.accessToken);
    assert.equal(await isActive(server, apiKey, own.accessToken), false);
    assert.notEqual((await client.getAgentToken({ resource: MCP_RESOURCE })).accessToken, own.accessToken, 'a revoked token is not served from the cache');
  });

  test('a declined consent → ERR_AUTHORIZATION_DENIED access_denied (state and iss verified first)', async () => {
    const client = sdk();
    const { url } = await client.authorizationUrl({ scope: 'calc', resource: MCP_RESOURCE });
    const { location } = await signInAndConsent(url, { email, decision: 'deny' });
    assert.throws(() => client.handleCallback(location), { code: 'ERR_AUTHORIZATION_DENIED', error: 'access_denied' });
  });

  test('ISS-02 the AS’s iss replaced in the response → ERR_AUTHORIZATION_ISSUER_MISMATCH; the code is never redeemed', async () => {
    const client = sdk();
    const { url } = await client.authorizationUrl({ scope: 'calc', resource: MCP_RESOURCE });
    const back = new URL((await signInAndConsent(url, { email })).location);
    back.searchParams.set('iss', `${server.issuer}/`);
    assert.throws(() => client.handleCallback(back), { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH', reason: 'mismatch' });
    back.searchParams.set('iss', server.issuer);
    assert.throws(() => client.handleCallback(back), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' }, 'the pending request is used up');
  });

  test('misuse: exchangeCode without an actor token for another agent’s authorization, OBO methods without app → TypeError', async () => {
    const client = sdk();
    await client.authorizationUrl({ scope: 'calc', resource: MCP_RESOURCE, requestedActor: otherAgent.clientId });
    const response = { code: 'x', state: 's', issuer: server.issuer, clientId: app.clientId, redirectUri, codeVerifier: 'v', scope: [], resource: [MCP_RESOURCE], requestedActor: otherAgent.clientId };
    await assert.rejects(client.exchangeCode(response), TypeError);
    const bare = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret });
    await assert.rejects(bare.authorizationUrl({ scope: 'calc' }), TypeError);
  });
});
