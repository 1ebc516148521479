import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { basicAuth, decodeJwt, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 11 acceptance, "a forged nested `act`" (TE-03, TE-06, SR-04), over real HTTP on both stores. An `act` chain
 * is Mandate's record of who acted, so one smuggled in where Mandate does not record it must never reach a token:
 * a token signed by another key with a fabricated chain, a genuine token whose nested `act` was edited, an
 * `actor_token` carrying an `act` of its own (our delegated token, or an agent's client assertion), and a client
 * assertion with `act` at client authentication. Each is refused with its error, or, where the claim is merely
 * ignored, the issued token's `act` is shown to be the proven actor over the recorded chain and nothing else.
 * (The same claim in another domain's assertion: jwt-bearer.test.ts; at a resource, the SDK:
 * packages/sdk/test/verify/delegation.test.ts.)
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GATEWAY = 'https://gateway.forged.example/mcp';
const DOWNSTREAM = 'https://downstream.forged.example/mcp';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, unknown>;

const node = (id: string, inner?: Body): Body => ({ sub: id, client_id: id, sub_profile: 'ai_agent', ...(inner ? { act: inner } : {}) });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** The token with its payload replaced and its header and signature kept: what an attacker can do without the key. */
const withPayload = (token: string, payload: Body) => {
  const [header, , signature] = token.split('.');
  return `${header}.${b64(payload)}.${signature}`;
};

forEachStore('TE-03 TE-06 SR-04: a forged nested act is never trusted', (fixture) => {
  let server: TestServer;
  let gatewayKey: string;
  let downstreamKey: string;
  let planner: Agent;
  let researcher: Agent;
  /** An agent that authenticates with private_key_jwt (its key below). */
  let keyed: string;
  const keyedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const strangerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  /** Alice's on-behalf-of token: sub = Alice, act = planner, aud = the gateway. */
  let userToken: string;
  /** A two-hop chain: the planner handed Alice's token to the researcher, which exchanged it (act researcher ← planner). */
  let chainToken: string;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture);
    const resource = async (uri: string, body: Body = {}) => {
      const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', 'files:read'], ...body });
      assert.equal(created.status, 201, await created.clone().text());
      return ((await created.json()) as { api_key: string }).api_key;
    };
    downstreamKey = await resource(DOWNSTREAM);
    gatewayKey = await resource(GATEWAY, { downstream_resources: [DOWNSTREAM] });
    const agent = async (fields: Body = {}) => {
      const created = await server.admin('POST', '/agents', { name: `agent ${++n}`, scopes: ['calc', 'files:read'], audiences: [GATEWAY, DOWNSTREAM], ...fields });
      assert.equal(created.status, 201, await created.clone().text());
      const body = (await created.json()) as { client_id: string; client_secret: string };
      return { clientId: body.client_id, clientSecret: body.client_secret };
    };
    planner = await agent();
    researcher = await agent();
    const jwk = { ...(await exportJWK(keyedKey.publicKey)), kid: 'k1', alg: 'ES256' };
    keyed = (await agent({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } })).clientId;

    const email = 'alice@forged.example';
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const flow = { clientId: app.clientId, scope: 'calc files:read', resource: [GATEWAY, DOWNSTREAM], requestedActor: planner.clientId, email };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await redeemCode(server, flow, code, verifier, { actor_token: await actorToken(server, planner), resource: GATEWAY });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    userToken = ((await redeemed.json()) as Record<string, string>)['access_token']!;

    const handed = await exchange(planner, { subject_token: userToken, audience: researcher.clientId });
    assert.equal(handed.status, 200, JSON.stringify(handed.body));
    const chained = await exchange(researcher, { subject_token: handed.body['access_token'] as string, resource: GATEWAY, scope: 'calc' });
    assert.equal(chained.status, 200, JSON.stringify(chained.body));
    chainToken = chained.body['access_token'] as string;
    assert.deepEqual(decodeJwt(chainToken).payload['act'], node(researcher.clientId, node(planner.clientId)), 'the genuine chain');
  });
  after(() => server.close());

  const post = async (params: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await server.postForm('/token', params, headers);
    return { status: response.status, body: (await response.json()) as Body };
  };
  /** A token exchange by `by`, proving itself with its actor token unless `params` brings another. */
  async function exchange(by: Agent, params: Record<string, string>) {
    return post({ grant_type: TE, subject_token_type: AT, actor_token: await actorToken(server, by), actor_token_type: AT, ...params }, { authorization: basicAuth(by.clientId, by.clientSecret) });
  }
  /** The gateway's downstream exchange (RFC 8693 with its API key): it appends itself to the subject token's chain. */
  const downstream = (subjectToken: string) => post({ grant_type: TE, subject_token: subjectToken, subject_token_type: AT, resource: DOWNSTREAM, scope: 'calc' }, { authorization: `Bearer ${gatewayKey}` });
  /** A JWT signed by the keyed agent (a client assertion, RFC 7523), with any claims beside the required ones. */
  const keyedAssertion = (claims: Body = {}, key: KeyObject = keyedKey.privateKey) =>
    new SignJWT({ jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(keyed)
      .setSubject(keyed)
      .setAudience(server.issuer)
      .setIssuedAt(server.clock.now())
      .setExpirationTime(server.clock.now() + 60)
      .sign(key);
  const refused = (result: { status: number; body: Body }, error: string, reason: RegExp, what: string) => {
    assert.deepEqual([result.status, result.body['error']], [400, error], `${what}: ${JSON.stringify(result.body)}`);
    assert.match(String(result.body['error_description']), reason, what);
  };

  test('TE-03: a token signed by another key with a fabricated chain is refused as subject_token and as actor_token, by a resource server’s exchange, and is inactive at introspection', async () => {
    const genuine = decodeJwt(chainToken);
    const sign = (payload: Body) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: genuine.header['kid'] as string }).sign(strangerKey.privateKey);
    const fabricated = await sign({ ...genuine.payload, jti: randomUUID(), act: node(researcher.clientId, node(planner.clientId, node('agt_root'))) });
    refused(await exchange(researcher, { subject_token: fabricated, resource: GATEWAY, scope: 'calc' }), 'invalid_request', /subject_token is not valid/, 'subject_token');
    refused(await downstream(fabricated), 'invalid_request', /subject_token is not valid/, 'downstream exchange');
    assert.equal(await isActive(server, gatewayKey, fabricated), false);

    // An actor token of the planner's own, with a chain of its own, signed by the stranger's key.
    const own = decodeJwt(await actorToken(server, planner)).payload;
    const fakeActor = await sign({ ...own, jti: randomUUID(), act: node('agt_root') });
    refused(await exchange(planner, { subject_token: userToken, actor_token: fakeActor, scope: 'calc' }), 'invalid_request', /actor_token is not valid/, 'actor_token');
  });

  test('TE-03: a genuine token whose nested act was edited, or given a nested act, is refused everywhere; the genuine chain still works', async () => {
    const genuine = decodeJwt(chainToken).payload;
    const edited = withPayload(chainToken, { ...genuine, act: node(researcher.clientId, node('agt_root')) });
    const grafted = withPayload(userToken, { ...decodeJwt(userToken).payload, act: node(planner.clientId, node('agt_root')) });
    const dropped = withPayload(chainToken, { ...genuine, act: node(researcher.clientId) });
    for (const [what, token] of [['edited', edited], ['grafted', grafted], ['inner actor dropped', dropped]] as const) {
      refused(await exchange(researcher, { subject_token: token, resource: GATEWAY, scope: 'calc' }), 'invalid_request', /subject_token is not valid/, what);
      refused(await downstream(token), 'invalid_request', /subject_token is not valid/, `${what}, downstream exchange`);
      assert.equal(await isActive(server, gatewayKey, token), false, what);
    }
    // The genuine token: active, and the gateway's exchange appends the gateway to exactly the recorded chain.
    assert.equal(await isActive(server, gatewayKey, chainToken), true);
    const onward = await downstream(chainToken);
    assert.equal(onward.status, 200, JSON.stringify(onward.body));
    const act = decodeJwt(onward.body['access_token'] as string).payload['act'] as Body;
    assert.deepEqual(act['act'], node(researcher.clientId, node(planner.clientId)));
    assert.equal(await isActive(server, downstreamKey, onward.body['access_token'] as string), true);
  });

  test('SR-04 TE-06: an actor_token carrying act is refused when it is our delegated token; a client assertion’s act is ignored: the new act is the proven actor over the recorded chain', async () => {
    // Alice's token names the planner in its act: it is not the planner's own token, so it proves no actor.
    refused(await exchange(planner, { subject_token: userToken, actor_token: userToken, scope: 'calc' }), 'invalid_request', /not the actor’s own token/, 'delegated actor_token');

    // The planner hands Alice's token to the keyed agent, which proves itself with client assertions (one to
    // authenticate, one as actor_token), both carrying a fabricated chain, may_act and another subject profile.
    const handed = await exchange(planner, { subject_token: userToken, audience: keyed });
    assert.equal(handed.status, 200, JSON.stringify(handed.body));
    const smuggled = { act: node('agt_root', node('usr_admin')), may_act: { sub: 'agt_root' }, sub_profile: 'resource_server' };
    const result = await post({
      grant_type: TE,
      subject_token: handed.body['access_token'] as string,
      subject_token_type: AT,
      actor_token: await keyedAssertion(smuggled),
      actor_token_type: JWT,
      resource: GATEWAY,
      scope: 'calc',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await keyedAssertion(smuggled),
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    const claims = decodeJwt(result.body['access_token'] as string).payload;
    assert.deepEqual(claims['act'], node(keyed, node(planner.clientId)), 'the keyed agent over the recorded chain, nothing of the assertions');
    assert.equal(claims['may_act'], undefined);
    assert.equal(JSON.stringify(claims).includes('agt_root'), false);

    // The same assertion signed by another key proves nothing.
    const forged = await post({
      grant_type: TE,
      subject_token: handed.body['access_token'] as string,
      subject_token_type: AT,
      actor_token: await keyedAssertion(smuggled, strangerKey.privateKey),
      actor_token_type: JWT,
      resource: GATEWAY,
      scope: 'calc',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await keyedAssertion(),
    });
    refused(forged, 'invalid_request', /actor_token is not valid: the client assertion was refused/, 'actor_token signed by another key');
  });

  test('TE-06: a client assertion with act at client authentication adds nothing: client_credentials issues the agent’s own token, without act', async () => {
    const smuggled = { act: node(planner.clientId, node('usr_admin')), sub_profile: 'resource_server' };
    const result = await post({ grant_type: 'client_credentials', resource: GATEWAY, scope: 'calc', client_assertion_type: ASSERTION_TYPE, client_assertion: await keyedAssertion(smuggled) });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    const claims = decodeJwt(result.body['access_token'] as string).payload;
    assert.deepEqual([claims['sub'], claims['client_id'], claims['sub_profile'], claims['act']], [keyed, keyed, 'ai_agent', undefined]);
    const introspected = (await (await server.postForm('/introspect', { token: result.body['access_token'] as string }, { authorization: `Bearer ${gatewayKey}` })).json()) as Body;
    assert.deepEqual([introspected['active'], introspected['act']], [true, undefined]);
  });
});
