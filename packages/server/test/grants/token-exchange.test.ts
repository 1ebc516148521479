import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, agentToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const ID = 'urn:ietf:params:oauth:token-type:id_token';
const FILES = 'https://files.example.com/api';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, string>;

forEachStore('token exchange (RFC 8693)', (fixture) => {
  let server: TestServer;
  let mcpKey: string;
  let app: { clientId: string };
  let planner: Agent;
  let researcher: Agent;
  let stranger: Agent;
  /** A user's OBO token: sub = user, act = planner, aud = MCP. */
  let userToken: string;
  let idToken: string;
  let userId: string;

  before(async () => {
    server = await startTestServer(fixture);
    const first = await registerAgentAndResource(server, { name: 'Planner', scopes: ['calc', 'files:read', 'exec'] });
    planner = first;
    mcpKey = first.apiKey;
    const files = await registerAgentAndResource(server, { name: 'Researcher', scopes: ['files:read', 'calc'], audiences: [FILES, MCP_RESOURCE] }, FILES);
    researcher = files;
    stranger = await registerAgentAndResource(server, { name: 'Stranger', scopes: ['calc', 'files:read'] });
    userId = await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true });
    const options = { clientId: app.clientId, scope: 'openid calc files:read', resource: MCP_RESOURCE, requestedActor: planner.clientId };
    const { code, verifier } = await obtainCode(server, options);
    const body = (await (await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, planner) })).json()) as Body;
    userToken = body['access_token']!;
    idToken = body['id_token']!;
  });
  after(() => server.close());

  /** Runs the OBO code flow on `srv` (another server on the same database has another issuer). */
  async function oboToken(srv: TestServer): Promise<string> {
    const options = { clientId: app.clientId, scope: 'openid calc files:read', resource: MCP_RESOURCE, requestedActor: planner.clientId };
    const { code, verifier } = await obtainCode(srv, options);
    return ((await (await redeemCode(srv, options, code, verifier, { actor_token: await actorToken(srv, planner) })).json()) as Body)['access_token']!;
  }

  const exchange = (agent: Agent, params: Record<string, string | string[]>) =>
    server.postForm('/token', { grant_type: TE, ...params }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
  const error = async (response: Response) => ((await response.json()) as Body)['error'];

  test('metadata lists the token-exchange grant type', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[] };
    assert.ok(metadata.grant_types_supported.includes(TE));
  });

  test('TE-01 missing subject_token or subject_token_type → invalid_request', async () => {
    assert.equal(await error(await exchange(planner, { subject_token_type: AT })), 'invalid_request');
    assert.equal(await error(await exchange(planner, { subject_token: userToken })), 'invalid_request');
  });

  test('TE-02 actor_token without actor_token_type, or the type alone → invalid_request', async () => {
    const actor = await actorToken(server, planner);
    assert.equal(await error(await exchange(planner, { subject_token: userToken, subject_token_type: AT, actor_token: actor })), 'invalid_request');
    assert.equal(await error(await exchange(planner, { subject_token: userToken, subject_token_type: AT, actor_token_type: AT })), 'invalid_request');
  });

  test('TE-03 unsupported subject_token_type, a tampered, revoked or expired subject token → invalid_request', async () => {
    const actor = { actor_token: await actorToken(server, planner), actor_token_type: AT };
    assert.equal(await error(await exchange(planner, { subject_token: userToken, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2', ...actor })), 'invalid_request');
    const [h, p, s] = userToken.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    assert.equal(await error(await exchange(planner, { subject_token: tampered, subject_token_type: AT, ...actor })), 'invalid_request');
    // `calc` only: the planner's high-risk `exec` would wait for an approver (the default for high risk).
    const own = await agentToken(server, planner, { scope: 'calc' });
    const { jti, exp } = decodeJwt(own).payload as { jti: string; exp: number };
    await server.store.revokeTokenId(jti, exp, 1);
    assert.equal(await error(await exchange(planner, { subject_token: own, subject_token_type: AT, ...actor })), 'invalid_request');
  });

  test('TE-05 TE-06 delegation: act.sub = the actor, the previous chain nested inside; response shape', async () => {
    // The planner hands the user's token to the researcher: a token for the researcher's audience with may_act.
    const handOff = await exchange(planner, { subject_token: userToken, subject_token_type: AT, actor_token: await actorToken(server, planner), actor_token_type: AT, audience: researcher.clientId });
    assert.equal(handOff.status, 200);
    const handed = (await handOff.json()) as Body;
    const handedClaims = decodeJwt(handed['access_token']!).payload;
    assert.equal(handedClaims['aud'], researcher.clientId);
    assert.deepEqual(handedClaims['may_act'], { sub: researcher.clientId });
    assert.equal((handedClaims['act'] as Body)['sub'], planner.clientId, 'the planner still acts; the chain did not grow');

    const response = await exchange(researcher, {
      subject_token: handed['access_token']!,
      subject_token_type: AT,
      actor_token: await actorToken(server, researcher),
      actor_token_type: AT,
      resource: MCP_RESOURCE,
      scope: 'files:read',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['issued_token_type'], AT);
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['scope'], 'files:read');
    assert.equal(body['refresh_token'], undefined, 'TE-09 no refresh token');
    const claims = decodeJwt(body['access_token'] as string).payload;
    assert.equal(claims['sub'], userId);
    assert.equal(claims['aud'], MCP_RESOURCE, 'within what the user consented to (SR-03)');
    assert.deepEqual(claims['act'], {
      sub: researcher.clientId,
      client_id: researcher.clientId,
      sub_profile: 'ai_agent',
      act: { sub: planner.clientId, client_id: planner.clientId, sub_profile: 'ai_agent' },
    });
    for (let a = claims['act'] as Record<string, unknown> | undefined; a; a = a['act'] as Record<string, unknown> | undefined) {
      assert.ok(!('exp' in a) && !('aud' in a), 'TE-06 no exp/aud inside act');
    }
    assert.ok((claims['exp'] as number) <= (decodeJwt(userToken).payload['exp'] as number), 'never outlives the subject token');
    assert.equal(await isActive(server, mcpKey, body['access_token'] as string), true);
  });

  test('TE-06 requested_token_type jwt → issued_token_type jwt', async () => {
    const response = await exchange(planner, { subject_token: userToken, subject_token_type: JWT, actor_token: await actorToken(server, planner), actor_token_type: AT, requested_token_type: JWT, scope: 'calc' });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as Body)['issued_token_type'], JWT);
  });

  test('TE-09 scope escalation beyond the subject token → invalid_scope', async () => {
    const response = await exchange(planner, { subject_token: userToken, subject_token_type: AT, actor_token: await actorToken(server, planner), actor_token_type: AT, scope: 'calc exec' });
    assert.equal(response.status, 400);
    assert.equal(await error(response), 'invalid_scope');
  });

  test('TE-08 a may_act naming another agent → invalid_request', async () => {
    const handed = (await (await exchange(planner, { subject_token: userToken, subject_token_type: AT, actor_token: await actorToken(server, planner), actor_token_type: AT, audience: researcher.clientId })).json()) as Body;
    const response = await exchange(stranger, { subject_token: handed['access_token']!, subject_token_type: AT, actor_token: await actorToken(server, stranger), actor_token_type: AT, resource: MCP_RESOURCE });
    assert.equal(response.status, 400);
    const body = (await response.json()) as Body;
    assert.equal(body['error'], 'invalid_request');
    assert.match(body['error_description']!, /may_act/);
  });

  test('gap 3: a subject token that names neither the exchanging client nor its actor cannot be exchanged', async () => {
    const response = await exchange(stranger, { subject_token: userToken, subject_token_type: AT, actor_token: await actorToken(server, stranger), actor_token_type: AT, resource: MCP_RESOURCE });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as Body)['error_description']!, /not issued to or for this actor/);
  });

  test('an actor_token that is not the exchanging client’s own token → invalid_request', async () => {
    const response = await exchange(planner, { subject_token: userToken, subject_token_type: AT, actor_token: await actorToken(server, researcher), actor_token_type: AT });
    assert.equal(await error(response), 'invalid_request');
  });

  test('TE-07 impersonation (no actor_token) is refused by default', async () => {
    const response = await exchange(planner, { subject_token: userToken, subject_token_type: AT, scope: 'calc' });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as Body)['error_description']!, /impersonation/);
  });

  test('TE-04 a resource with a fragment, unregistered, or not allowed to the actor → invalid_target', async () => {
    const actor = { actor_token: await actorToken(server, planner), actor_token_type: AT };
    for (const resource of [`${MCP_RESOURCE}#x`, 'https://unknown.example.com/', FILES]) {
      const response = await exchange(planner, { subject_token: userToken, subject_token_type: AT, ...actor, resource });
      assert.equal(await error(response), 'invalid_target', resource);
    }
    assert.equal(await error(await exchange(planner, { subject_token: userToken, subject_token_type: AT, ...actor, audience: 'nobody' })), 'invalid_target');
  });

  test('an id_token subject is capped by its grant’s scopes, never widened', async () => {
    const actor = { actor_token: await actorToken(server, planner), actor_token_type: AT };
    // The ID token was issued to the app, so the planner is not bound to it.
    assert.equal(await error(await exchange(planner, { subject_token: idToken, subject_token_type: ID, ...actor })), 'invalid_request');
    const appClient = await createApp(server, { name: 'Exchanger', grant_types: ['authorization_code', TE] });
    const options = { clientId: appClient.clientId, clientSecret: appClient.clientSecret, scope: 'openid calc', resource: MCP_RESOURCE };
    const { code, verifier } = await obtainCode(server, options);
    const own = (await (await redeemCode(server, options, code, verifier)).json()) as Body;
    const appActor = (await (await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(appClient.clientId, appClient.clientSecret!) })).json()) as Body;
    assert.ok(appActor['error'], 'an app has no client_credentials grant, so it can only impersonate');
    const impersonation = await server.postForm('/token', { grant_type: TE, subject_token: own['id_token']!, subject_token_type: ID, scope: 'calc files:read' }, { authorization: basicAuth(appClient.clientId, appClient.clientSecret!) });
    assert.equal(await error(impersonation), 'invalid_request', 'impersonation is off');
  });

  test('max chain depth is enforced', async () => {
    const shallow = await startTestServer(fixture, { delegation: { maxChainDepth: 1, allowImpersonation: false } });
    try {
      const handOff = await shallow.postForm(
        '/token',
        { grant_type: TE, subject_token: await oboToken(shallow), subject_token_type: AT, actor_token: await actorToken(shallow, planner), actor_token_type: AT, audience: researcher.clientId },
        { authorization: basicAuth(planner.clientId, planner.clientSecret) },
      );
      const handed = (await handOff.json()) as Body;
      const deeper = await shallow.postForm(
        '/token',
        { grant_type: TE, subject_token: handed['access_token']!, subject_token_type: AT, actor_token: await actorToken(shallow, researcher), actor_token_type: AT, resource: MCP_RESOURCE },
        { authorization: basicAuth(researcher.clientId, researcher.clientSecret) },
      );
      assert.equal(deeper.status, 400);
      assert.match(((await deeper.json()) as Body)['error_description']!, /exceed 1 actors/);
    } finally {
      await shallow.close();
    }
  });

  test('TE-07 with impersonation allowed: no new act, the subject’s chain kept', async () => {
    const lenient = await startTestServer(fixture, { delegation: { maxChainDepth: 5, allowImpersonation: true } });
    try {
      const subject = await oboToken(lenient);
      const response = await lenient.postForm('/token', { grant_type: TE, subject_token: subject, subject_token_type: AT, scope: 'calc' }, { authorization: basicAuth(planner.clientId, planner.clientSecret) });
      assert.equal(response.status, 200);
      const claims = decodeJwt(((await response.json()) as Body)['access_token']!).payload;
      assert.equal(claims['sub'], userId);
      assert.deepEqual(claims['act'], decodeJwt(subject).payload['act']);

      // systems-review gap: an ID token whose grant holds no resource scope must not be exchanged for any.
      const exchanger = await createApp(lenient, { name: 'Identity only', grant_types: ['authorization_code', TE] });
      const options = { clientId: exchanger.clientId, clientSecret: exchanger.clientSecret, scope: 'openid' };
      const { code, verifier } = await obtainCode(lenient, options);
      const identity = ((await (await redeemCode(lenient, options, code, verifier)).json()) as Body)['id_token']!;
      const auth = { authorization: basicAuth(exchanger.clientId, exchanger.clientSecret!) };
      const widened = await lenient.postForm('/token', { grant_type: TE, subject_token: identity, subject_token_type: ID, resource: MCP_RESOURCE, scope: 'calc' }, auth);
      assert.equal(await error(widened), 'invalid_target', 'the user consented to no resource (SR-03)');
      const empty = await lenient.postForm('/token', { grant_type: TE, subject_token: identity, subject_token_type: ID, resource: MCP_RESOURCE }, auth);
      assert.equal(await error(empty), 'invalid_target', 'no scope-less user token either');
    } finally {
      await lenient.close();
    }
  });

  test('revoking the user’s grant makes every exchanged token inactive (chain-aware revocation)', async () => {
    // A grant of its own: the suite's userToken must stay alive for the other tests.
    const subject = await oboToken(server);
    const derived = (await (await exchange(planner, { subject_token: subject, subject_token_type: AT, actor_token: await actorToken(server, planner), actor_token_type: AT, scope: 'calc' })).json()) as Body;
    assert.equal(await isActive(server, mcpKey, derived['access_token']!), true);
    const gid = decodeJwt(subject).payload['gid'] as string;
    assert.notEqual(gid, decodeJwt(userToken).payload['gid']);
    await server.store.revokeGrant(gid, server.clock.now());
    assert.equal(await isActive(server, mcpKey, derived['access_token']!), false);
    assert.equal(await error(await exchange(planner, { subject_token: subject, subject_token_type: AT, actor_token: await actorToken(server, planner), actor_token_type: AT })), 'invalid_request');
  });
});
