import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, agentToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * SR-03 (delegation beyond consent), SR-04 (what may be an actor_token) and SR-10 (impersonation of an
 * on-behalf-of grant), over real HTTP on both stores. Every test makes its own user and agents.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const ID = 'urn:ietf:params:oauth:token-type:id_token';
const R2 = 'https://r2.example.com/api';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, string>;

forEachStore('SR-03 SR-04 SR-10 delegation', (fixture) => {
  let server: TestServer;
  let mcpKey: string;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture);
    mcpKey = (await registerAgentAndResource(server)).apiKey;
    // R2 defines `calc` too: the same scope name on a resource the user never approved.
    assert.equal((await server.admin('POST', '/resources', { resource: R2, scopes: ['calc', 'r2:write'] })).status, 201);
  });
  after(() => server.close());

  const agent = (fields: Record<string, unknown>): Promise<Agent> => registerAgentAndResource(server, { name: `agent ${++n}`, ...fields });

  /** The user approves agent A (`calc` on MCP_RESOURCE) through the code flow: A's on-behalf-of access token and ID token. */
  async function userApproves(a: Agent, scope = 'openid calc'): Promise<{ access: string; idToken: string; app: { clientId: string; clientSecret?: string } }> {
    const email = `user${++n}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { name: 'Exchanger', grant_types: ['authorization_code', TE] });
    const options = { clientId: app.clientId, clientSecret: app.clientSecret, scope, resource: MCP_RESOURCE, requestedActor: a.clientId, email };
    const { code, verifier } = await obtainCode(server, options);
    const response = await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, a) });
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as Body;
    return { access: body['access_token']!, idToken: body['id_token']!, app };
  }

  const exchange = async (by: Agent, params: Record<string, string>) => {
    const response = await server.postForm('/token', { grant_type: TE, subject_token_type: AT, actor_token: await actorToken(server, by), actor_token_type: AT, ...params }, { authorization: basicAuth(by.clientId, by.clientSecret) });
    return { status: response.status, body: (await response.json()) as Body };
  };

  test('SR-03 hand-off A→B, then B→R2 (a resource the user never approved, defining the same scope) → invalid_target; within the consent it works', async () => {
    const a = await agent({ scopes: ['calc'] });
    const b = await agent({ scopes: ['calc'], audiences: [R2, MCP_RESOURCE] });
    const { access } = await userApproves(a);
    const handOff = await exchange(a, { subject_token: access, audience: b.clientId });
    assert.equal(handOff.status, 200, JSON.stringify(handOff.body));
    const handed = handOff.body['access_token']!;

    for (const target of [{ resource: R2 }, { audience: R2 }, { resource: R2, scope: 'calc' }] as Record<string, string>[]) {
      const refused = await exchange(b, { subject_token: handed, ...target });
      assert.equal(refused.status, 400, JSON.stringify(target));
      assert.equal(refused.body['error'], 'invalid_target');
      assert.equal(refused.body['error_description'], `resource ${R2} is outside what the user consented to`);
    }
    // Two resources, one consented: the whole request is refused, not trimmed.
    const mixed = await exchange(b, { subject_token: handed, resource: MCP_RESOURCE, audience: R2 });
    assert.equal(mixed.body['error'], 'invalid_target');

    const within = await exchange(b, { subject_token: handed, resource: MCP_RESOURCE, scope: 'calc' });
    assert.equal(within.status, 200, JSON.stringify(within.body));
    const claims = decodeJwt(within.body['access_token']!).payload;
    assert.equal(claims['aud'], MCP_RESOURCE);
    assert.equal((claims['act'] as Body)['sub'], b.clientId);
    assert.equal(await isActive(server, mcpKey, within.body['access_token']!), true);
  });

  test('SR-03 no scope shared by the subject token, the actor and the target → invalid_scope, never a scope-less user token', async () => {
    const a = await agent({ scopes: ['calc'] });
    const b = await agent({ scopes: ['files:read'], audiences: [MCP_RESOURCE] });
    const { access } = await userApproves(a);
    const handed = (await exchange(a, { subject_token: access, audience: b.clientId })).body['access_token']!;
    const response = await exchange(b, { subject_token: handed, resource: MCP_RESOURCE });
    assert.equal(response.status, 400, JSON.stringify(response.body));
    assert.equal(response.body['error'], 'invalid_scope');
    assert.match(response.body['error_description']!, /share no scope/);
    const named = await exchange(b, { subject_token: handed, resource: MCP_RESOURCE, scope: 'files:read' });
    assert.equal(named.body['error'], 'invalid_scope', 'nor one the user did not grant');
  });

  test('SR-04 a token the agent got for a resource is never an actor_token: code redemption → invalid_grant, exchange → invalid_request', async () => {
    const a = await agent({ scopes: ['calc'] });
    const resourceToken = await agentToken(server, a, { resource: MCP_RESOURCE });
    const email = `user${++n}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const options = { clientId: app.clientId, scope: 'openid calc', resource: MCP_RESOURCE, requestedActor: a.clientId, email };
    const { code, verifier } = await obtainCode(server, options);
    const redeemed = await redeemCode(server, options, code, verifier, { actor_token: resourceToken, actor_token_type: AT });
    assert.equal(redeemed.status, 400);
    const body = (await redeemed.json()) as Body;
    assert.equal(body['error'], 'invalid_grant');
    assert.match(body['error_description']!, /audience is not this authorization server/);

    const { access } = await userApproves(a);
    const exchanged = await server.postForm(
      '/token',
      { grant_type: TE, subject_token: access, subject_token_type: AT, actor_token: resourceToken, actor_token_type: AT, scope: 'calc' },
      { authorization: basicAuth(a.clientId, a.clientSecret) },
    );
    assert.equal(exchanged.status, 400);
    const refusal = (await exchanged.json()) as Body;
    assert.equal(refusal['error'], 'invalid_request');
    assert.match(refusal['error_description']!, /audience is not this authorization server/);
    // The same exchange with the agent's token for this server works.
    assert.equal((await exchange(a, { subject_token: access, scope: 'calc' })).status, 200);
  });

  test('SR-04 the actor token: aud = the issuer, no scope, short-lived; useless at a resource and at userinfo', async () => {
    const a = await agent({ scopes: ['calc'] });
    const token = await actorToken(server, a);
    const claims = decodeJwt(token).payload;
    assert.equal(claims['aud'], server.issuer);
    assert.equal(claims['scope'], undefined);
    assert.ok((claims['exp'] as number) - (claims['iat'] as number) <= 300);
    assert.equal(await isActive(server, mcpKey, token), false, 'a resource learns nothing of it');
    assert.equal((await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    const auth = { authorization: basicAuth(a.clientId, a.clientSecret) };
    const withScope = await server.postForm('/token', { grant_type: 'client_credentials', resource: server.issuer, scope: 'calc' }, auth);
    assert.equal(((await withScope.json()) as Body)['error'], 'invalid_scope');
    const withResource = await server.postForm('/token', { grant_type: 'client_credentials', resource: [server.issuer, MCP_RESOURCE] }, auth);
    assert.equal(((await withResource.json()) as Body)['error'], 'invalid_target');
  });

  test('SR-04 a private_key_jwt agent may prove itself with a client assertion as actor_token (jwt type), once', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const created = await server.admin('POST', '/agents', { name: `keyed ${++n}`, scopes: ['calc'], audiences: [MCP_RESOURCE], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } });
    assert.equal(created.status, 201);
    const keyed = ((await created.json()) as { client_id: string }).client_id;
    const sign = (key: KeyObject, jti = randomUUID()) =>
      new SignJWT({ jti }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(keyed).setSubject(keyed).setAudience(server.issuer).setIssuedAt(server.clock.now()).setExpirationTime(server.clock.now() + 60).sign(key);

    const email = `user${++n}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const options = { clientId: app.clientId, scope: 'openid calc', resource: MCP_RESOURCE, requestedActor: keyed, email };
    const { code, verifier } = await obtainCode(server, options);
    const proof = await sign(privateKey);
    const redeemed = await redeemCode(server, options, code, verifier, { actor_token: proof, actor_token_type: JWT });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const access = ((await redeemed.json()) as Body)['access_token']!;
    assert.equal((decodeJwt(access).payload['act'] as Body)['sub'], keyed);

    // Exchange: the agent authenticates with one assertion and proves itself with another.
    const exchangeWith = async (actor: string) =>
      server.postForm('/token', {
        grant_type: TE,
        subject_token: access,
        subject_token_type: AT,
        actor_token: actor,
        actor_token_type: JWT,
        scope: 'calc',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await sign(privateKey),
      });
    const second = await sign(privateKey);
    const ok = await exchangeWith(second);
    assert.equal(ok.status, 200, await ok.clone().text());
    const replayed = await exchangeWith(second);
    assert.equal(((await replayed.json()) as Body)['error'], 'invalid_request', 'a used assertion proves nothing again');
    const forged = await exchangeWith(await sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    assert.equal(((await forged.json()) as Body)['error'], 'invalid_request');
  });

  /**
   * A server with impersonation on, where a user approved agent A for an application through the code flow: the
   * application's ID token of that on-behalf-of grant and its way of exchanging it (SR-10).
   */
  async function impersonationSetup(lenient: TestServer) {
    const a = await registerAgentAndResource(lenient, { name: `agent ${++n}`, scopes: ['calc'] });
    const email = `user${++n}@example.com`;
    await createUser(lenient, email);
    const app = await createApp(lenient, { name: 'Impersonator', grant_types: ['authorization_code', TE] });
    const options = { clientId: app.clientId, clientSecret: app.clientSecret, scope: 'openid calc', resource: MCP_RESOURCE, requestedActor: a.clientId, email };
    const { code, verifier } = await obtainCode(lenient, options);
    const redeemed = (await (await redeemCode(lenient, options, code, verifier, { actor_token: await actorToken(lenient, a) })).json()) as Body;
    const idToken = redeemed['id_token']!;
    const impersonate = () =>
      lenient.postForm('/token', { grant_type: TE, subject_token: idToken, subject_token_type: ID, resource: MCP_RESOURCE, scope: 'calc' }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
    return { a, app, redeemed, idToken, impersonate };
  }

  test('SR-10 impersonation on: an ID token of an on-behalf-of grant exchanges into a token that keeps the agent in act; disabling the agent ends it', async () => {
    const lenient = await startTestServer(fixture, { delegation: { maxChainDepth: 5, allowImpersonation: true } });
    try {
      const { a, idToken, impersonate } = await impersonationSetup(lenient);
      const response = await impersonate();
      assert.equal(response.status, 200, await response.clone().text());
      const token = ((await response.json()) as Body)['access_token']!;
      const claims = decodeJwt(token).payload;
      assert.deepEqual(claims['act'], { sub: a.clientId, client_id: a.clientId, sub_profile: 'ai_agent' }, 'the agent the user authorized stays in the chain');
      assert.equal(claims['gid'], decodeJwt(idToken).payload['gid']);
      assert.equal(await isActive(lenient, mcpKey, token), true);

      assert.equal((await lenient.admin('POST', `/agents/${a.clientId}/disable`)).status, 200);
      assert.equal(await isActive(lenient, mcpKey, token), false, 'disabling the agent ends it');
      assert.equal((await lenient.admin('POST', `/agents/${a.clientId}/enable`)).status, 200);
      assert.equal(await isActive(lenient, mcpKey, token), false, 're-enabling revives nothing');
      const again = await impersonate();
      assert.equal(again.status, 400, 'the grant ended with the disable');
    } finally {
      await lenient.close();
    }
  });

  test('SR-14 SR-10 revoking the ID token an impersonation exchange used revokes what it made; another client cannot', async () => {
    const lenient = await startTestServer(fixture, { delegation: { maxChainDepth: 5, allowImpersonation: true } });
    try {
      const { app, redeemed, idToken, impersonate } = await impersonationSetup(lenient);
      const made = await impersonate();
      assert.equal(made.status, 200, await made.clone().text());
      const token = ((await made.json()) as Body)['access_token']!;
      assert.equal(await isActive(lenient, mcpKey, token), true);

      const other = await createApp(lenient, { name: 'Other' });
      const foreign = await lenient.postForm('/revoke', { token: idToken }, { authorization: basicAuth(other.clientId, other.clientSecret!) });
      assert.equal(foreign.status, 400);
      assert.equal(((await foreign.json()) as Body)['error'], 'unauthorized_client');
      assert.equal(await isActive(lenient, mcpKey, token), true, 'a client that does not own the ID token revokes nothing');

      assert.equal((await lenient.postForm('/revoke', { token: idToken }, { authorization: basicAuth(app.clientId, app.clientSecret!) })).status, 200);
      assert.equal(await isActive(lenient, mcpKey, token), false, 'what was exchanged from the ID token ends with it');
      const again = await impersonate();
      assert.equal(again.status, 400, 'the revoked ID token exchanges into nothing');
      assert.equal(((await again.json()) as Body)['error'], 'invalid_request');
      assert.equal(await isActive(lenient, mcpKey, redeemed['access_token']!), true, 'the grant and its own tokens live on');
      const audit = (await (await lenient.admin('GET', '/audit?event=token.revoked')).json()) as { events: { detail: Record<string, unknown> }[] };
      assert.ok(audit.events.some((e) => e.detail['token_type'] === 'id_token' && e.detail['descendants_revoked'] === 1));
    } finally {
      await lenient.close();
    }
  });
});
