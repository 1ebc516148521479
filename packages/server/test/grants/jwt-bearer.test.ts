import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createDpopProof, dpopKeyFrom } from '@mandate/protocol';
import { exportJWK, SignJWT } from 'jose';
import { basicAuth, decodeJwt, freePort, startTestServer, type TestServer } from '../helpers/server.ts';
import { createTestDatabase, forEachStore, type TestDatabase } from '../helpers/stores.ts';
import { createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 11 item 6, cross-domain, over real HTTP with two Mandate instances acting as two domains, each on its own
 * database (SQLite, then PostgreSQL): A is the identity provider and domain A (it issues ID-JAGs and identity
 * chaining grants for its peer B, `crossDomain.peers`); B trusts A (`crossDomain.trustedIssuers`, A's keys fetched
 * from its `jwks_uri` through the SSRF-checked fetch) and redeems A's grants with the RFC 7523 `jwt-bearer` grant.
 * B also trusts a workload issuer whose keys are inline, for assertions the test signs itself (the refusals).
 * A second instance of B on B's database shows that a grant is single use across instances. A third issuer's keys
 * are served by a small HTTP server the test can make fail (the age limit of stale `jwksUri` keys).
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const JWT_DPOP = 'urn:ietf:params:oauth:grant-type:jwt-dpop';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const RESOURCE_A = 'https://api.a.example/mcp';
const RESOURCE_B = 'https://api.b.example/mcp';
const WORKLOAD_ISSUER = 'https://workloads.example';
/** An issuer whose keys B fetches from a `jwksUri` the test can make fail (the stale-keys limit). */
const FEDERATED_ISSUER = 'https://federated.example';

type Body = Record<string, unknown>;

forEachStore('cross-domain: jwt-bearer, identity chaining and ID-JAG between two Mandate instances', (fixture) => {
  let a: TestServer;
  let b: TestServer;
  let b2: TestServer;
  let databaseB: TestDatabase;
  const workloadKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const strangerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const federatedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let keyServer: Server;
  /** Whether the federated issuer's key server answers (else 503). */
  let keysServed = true;
  /** Client CA at A (an application users sign in to) and its counterpart CB at B. */
  let ca: { clientId: string; clientSecret: string };
  let cb: { clientId: string; clientSecret: string };
  let otherB: { clientId: string; clientSecret: string };
  let resourceBKey: string;
  let userB: string;
  const email = 'alice@a.example';
  let n = 0;

  before(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const issuerA = `http://127.0.0.1:${portA}`;
    const issuerB = `http://127.0.0.1:${portB}`;
    databaseB = await createTestDatabase(fixture.dialect);
    const workloadJwk = { ...(await exportJWK(workloadKey.publicKey)), kid: 'w1', alg: 'ES256' };
    const federatedJwks = JSON.stringify({ keys: [{ ...(await exportJWK(federatedKey.publicKey)), kid: 'f1', alg: 'ES256' }] });
    keyServer = createServer((_request, response) => {
      if (!keysServed) return void response.writeHead(503).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(federatedJwks);
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const keyPort = (keyServer.address() as { port: number }).port;
    const configB = {
      issuer: issuerB,
      port: portB,
      clientMetadataDocuments: { timeoutMs: 20_000 },
      crossDomain: {
        allowHttpLocalhost: true,
        trustedIssuers: [
          { issuer: issuerA, jwksUri: `${issuerA}/jwks.json`, subject: 'email' as const },
          { issuer: WORKLOAD_ISSUER, jwks: { keys: [workloadJwk] }, subject: 'email' as const, scopes: ['calc'] },
          { issuer: FEDERATED_ISSUER, jwksUri: `http://127.0.0.1:${keyPort}/jwks`, subject: 'sub' as const, assertions: ['jwt' as const] },
        ],
      },
    };
    b = await startTestServer({ url: databaseB.url }, configB);
    const created = await b.admin('POST', '/resources', { resource: RESOURCE_B, scopes: ['calc', 'files:read', 'exec'] });
    assert.equal(created.status, 201, await created.clone().text());
    resourceBKey = ((await created.json()) as { api_key: string }).api_key;
    const clientAtB = async () => {
      const made = await createApp(b, { grant_types: [JWT_BEARER], audiences: [RESOURCE_B], scopes: ['calc', 'files:read'] });
      return { clientId: made.clientId, clientSecret: made.clientSecret! };
    };
    cb = await clientAtB();
    otherB = await clientAtB();
    userB = await createUser(b, email);
    // A second instance of domain B on the same database (another port, the same issuer and keys).
    b2 = await startTestServer({ url: databaseB.url }, { ...configB, port: 0 });

    const peerA = { issuer: issuerB };
    a = await startTestServer(fixture, { issuer: issuerA, port: portA, crossDomain: { peers: [peerA] } });
    await a.admin('POST', '/resources', { resource: RESOURCE_A, scopes: ['calc', 'files:read', 'exec'] });
    const app = await createApp(a, { grant_types: ['authorization_code', 'refresh_token', TE], audiences: [RESOURCE_A], scopes: ['calc', 'files:read', 'exec'] });
    ca = { clientId: app.clientId, clientSecret: app.clientSecret! };
    await createUser(a, email);
    // Domain A learns CA's id at B: a restart with the mapping (ids are made when a client is registered).
    await a.close();
    a = await startTestServer(fixture, { issuer: issuerA, port: portA, crossDomain: { peers: [{ ...peerA, clients: { [ca.clientId]: cb.clientId } }] } });
  });
  after(async () => {
    await a?.close();
    await b2?.close();
    await b?.close();
    await databaseB?.drop();
    await new Promise((resolve) => keyServer?.close(resolve));
  });

  /** Alice signs in to CA at A: an ID token (aud CA) and an access token for RESOURCE_A. */
  async function signIn(): Promise<{ idToken: string; accessToken: string }> {
    const flow = { clientId: ca.clientId, clientSecret: ca.clientSecret, scope: 'openid email calc files:read', resource: RESOURCE_A, email };
    const { code, verifier } = await obtainCode(a, flow);
    const redeemed = await redeemCode(a, flow, code, verifier);
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const body = (await redeemed.json()) as { id_token: string; access_token: string };
    return { idToken: body.id_token, accessToken: body.access_token };
  }

  const post = async (server: TestServer, params: Record<string, string>, client: { clientId: string; clientSecret: string }, headers: Record<string, string> = {}) => {
    const response = await server.postForm('/token', params, { authorization: basicAuth(client.clientId, client.clientSecret), ...headers });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const idJagRequest = (idToken: string, extra: Record<string, string> = {}) => ({
    grant_type: TE,
    requested_token_type: ID_JAG,
    subject_token: idToken,
    subject_token_type: ID_TOKEN,
    audience: b.issuer,
    resource: RESOURCE_B,
    scope: 'calc files:read',
    ...extra,
  });
  const redeem = (server: TestServer, assertion: string, client = cb, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    post(server, { grant_type: JWT_BEARER, assertion, ...extra }, client, headers);

  /** An assertion of the workload issuer (inline keys at B), for the refusals. */
  async function workloadAssertion(claims: Record<string, unknown> = {}, options: { typ?: string; key?: typeof workloadKey; omit?: string[] } = {}): Promise<string> {
    const now = b.clock.now();
    const payload: Record<string, unknown> = { iss: WORKLOAD_ISSUER, sub: `w${++n}`, aud: b.issuer, email, iat: now, exp: now + 120, jti: randomUUID(), ...claims };
    for (const name of options.omit ?? []) delete payload[name];
    return new SignJWT(payload as Record<string, unknown>)
      .setProtectedHeader({ alg: 'ES256', kid: 'w1', ...(options.typ ? { typ: options.typ } : {}) })
      .sign((options.key ?? workloadKey).privateKey);
  }

  test('JAG-02, JAG-04, IC-06: A exchanges Alice’s ID token for an ID-JAG; B redeems it once for an access token, without a refresh token', async () => {
    const { idToken } = await signIn();
    const exchanged = await post(a, idJagRequest(idToken), ca);
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body['issued_token_type'], ID_JAG);
    assert.equal(exchanged.body['token_type'], 'N_A', 'RFC 8693 §2.2.1: not an access token');
    assert.equal(exchanged.body['refresh_token'], undefined);
    const idJag = exchanged.body['access_token'] as string;
    const { header, payload } = decodeJwt(idJag);
    assert.equal(header['typ'], 'oauth-id-jag+jwt');
    assert.equal(payload['iss'], a.issuer);
    assert.equal(payload['aud'], b.issuer, 'the resource authorization server alone');
    assert.equal(payload['client_id'], cb.clientId, 'the client’s id at the resource authorization server');
    assert.equal(payload['sub'], decodeJwt(idToken).payload['sub']);
    assert.equal(payload['resource'], RESOURCE_B);
    assert.equal(payload['scope'], 'calc files:read');
    assert.equal(payload['email'], email);
    assert.ok(typeof payload['jti'] === 'string' && typeof payload['iat'] === 'number');
    assert.ok((payload['exp'] as number) - (payload['iat'] as number) <= 300, 'short-lived');

    const redeemed = await redeem(b, idJag);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body['token_type'], 'Bearer');
    assert.equal(redeemed.body['refresh_token'], undefined, 'JAG-04: no refresh token');
    assert.equal(redeemed.body['scope'], 'calc files:read');
    const token = decodeJwt(redeemed.body['access_token'] as string).payload;
    assert.equal(token['iss'], b.issuer);
    assert.equal(token['sub'], userB, 'Alice as B knows her (by e-mail)');
    assert.equal(token['client_id'], cb.clientId);
    assert.equal(token['aud'], RESOURCE_B);
    assert.ok(await isActive(b, resourceBKey, redeemed.body['access_token'] as string));

    // The acceptance point: a replayed ID-JAG is refused, by this instance and by the other instance of domain B.
    for (const instance of [b, b2]) {
      const replayed = await redeem(instance, idJag);
      assert.equal(replayed.status, 400);
      assert.equal(replayed.body['error'], 'invalid_grant');
      assert.match(String(replayed.body['error_description']), /used before/);
    }
  });

  test('a replayed ID-JAG is refused on a second instance of the same domain, after the first redeemed it', async () => {
    const { idToken } = await signIn();
    const idJag = (await post(a, idJagRequest(idToken), ca)).body['access_token'] as string;
    const first = await redeem(b2, idJag);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await redeem(b, idJag);
    assert.deepEqual([again.status, again.body['error']], [400, 'invalid_grant']);
  });

  test('JAG-01: an ID token issued to another client is not exchanged; ID-JAG requests need an ID token and a known audience', async () => {
    const { idToken, accessToken } = await signIn();
    const other = await createApp(a, { grant_types: ['authorization_code', TE], audiences: [RESOURCE_A], scopes: ['calc'] });
    const foreign = await post(a, idJagRequest(idToken), { clientId: other.clientId, clientSecret: other.clientSecret! });
    assert.deepEqual([foreign.status, foreign.body['error']], [400, 'invalid_request']);
    assert.match(String(foreign.body['error_description']), /not issued to this client/);
    const notIdToken = await post(a, idJagRequest(accessToken, { subject_token_type: ACCESS_TOKEN }), ca);
    assert.deepEqual([notIdToken.status, notIdToken.body['error']], [400, 'invalid_request']);
    const unknownPeer = await post(a, idJagRequest(idToken, { audience: 'https://as.elsewhere.example' }), ca);
    assert.deepEqual([unknownPeer.status, unknownPeer.body['error']], [400, 'invalid_target']);
  });

  test('a resource server (authenticated by its API key) may not ask for an ID-JAG or a JWT authorization grant', async () => {
    const created = await a.admin('POST', '/resources', { resource: 'https://gateway.a.example/mcp', scopes: ['calc'] });
    const apiKey = ((await created.json()) as { api_key: string }).api_key;
    const { idToken, accessToken } = await signIn();
    for (const params of [idJagRequest(idToken), { grant_type: TE, requested_token_type: JWT, subject_token: accessToken, subject_token_type: ACCESS_TOKEN, audience: b.issuer }]) {
      const response = await a.postForm('/token', params, { authorization: `Bearer ${apiKey}` });
      const body = (await response.json()) as Body;
      assert.deepEqual([response.status, body['error']], [400, 'invalid_request'], JSON.stringify(body));
      assert.match(String(body['error_description']), /resource server/);
    }
  });

  test('JAG-03: the ID-JAG’s client_id must be the authenticated client at B', async () => {
    const { idToken } = await signIn();
    const idJag = (await post(a, idJagRequest(idToken), ca)).body['access_token'] as string;
    const refused = await redeem(b, idJag, otherB);
    assert.deepEqual([refused.status, refused.body['error']], [400, 'invalid_grant']);
    assert.match(String(refused.body['error_description']), /another client/);
    // Refused before its jti was consumed: CB still redeems it.
    assert.equal((await redeem(b, idJag)).status, 200);
  });

  test('IC-02, IC-03, IC-06: identity chaining: A issues a JWT authorization grant for B from Alice’s access token; B redeems it', async () => {
    const { accessToken } = await signIn();
    const chaining = { grant_type: TE, requested_token_type: JWT, subject_token: accessToken, subject_token_type: ACCESS_TOKEN, audience: b.issuer };
    const wider = await post(a, { ...chaining, scope: 'calc exec' }, ca);
    assert.deepEqual([wider.status, wider.body['error']], [400, 'invalid_scope'], 'IC-03: never wider than the subject token');
    const stray = await post(a, { ...chaining, resource: 'https://api.a.example/other' }, ca);
    assert.deepEqual([stray.status, stray.body['error']], [400, 'invalid_target'], 'IC-01: one authorization server, nothing beside it');

    const exchanged = await post(a, { ...chaining, scope: 'calc' }, ca);
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body['issued_token_type'], JWT);
    assert.equal(exchanged.body['token_type'], 'N_A');
    const grant = decodeJwt(exchanged.body['access_token'] as string);
    assert.equal(grant.header['typ'], 'JWT');
    assert.equal(grant.payload['aud'], b.issuer, 'IC-02: B alone');
    assert.equal(grant.payload['scope'], 'calc');
    assert.equal(grant.payload['email'], email);

    const redeemed = await redeem(b, exchanged.body['access_token'] as string, cb, { resource: RESOURCE_B });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body['refresh_token'], undefined, 'IC-06: no refresh token');
    assert.equal(redeemed.body['scope'], 'calc');
    assert.equal(decodeJwt(redeemed.body['access_token'] as string).payload['sub'], userB);
    const replayed = await redeem(b2, exchanged.body['access_token'] as string, cb, { resource: RESOURCE_B });
    assert.deepEqual([replayed.status, replayed.body['error']], [400, 'invalid_grant']);
  });

  test('JAG-05: an ID-JAG bound to a DPoP key (a proof at A) is redeemed at B only with a proof of the same key', async () => {
    const key = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const otherKey = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const proof = (server: TestServer, k = key) => ({ dpop: createDpopProof(k, { method: 'POST', url: `${server.issuer}/token` }, server.clock.now()) });
    const { idToken } = await signIn();
    const exchanged = await post(a, idJagRequest(idToken), ca, proof(a));
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    const idJag = exchanged.body['access_token'] as string;
    assert.deepEqual(decodeJwt(idJag).payload['cnf'], { jkt: key.jkt });
    const withoutProof = await redeem(b, idJag);
    assert.deepEqual([withoutProof.status, withoutProof.body['error']], [400, 'invalid_grant']);
    const wrongKey = await redeem(b, idJag, cb, {}, proof(b, otherKey));
    assert.deepEqual([wrongKey.status, wrongKey.body['error']], [400, 'invalid_grant']);
    const bound = await redeem(b, idJag, cb, {}, proof(b));
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(bound.body['access_token'] as string).payload['cnf'], { jkt: key.jkt });
  });

  test('IC-04, JAG-03: untrusted issuer, bad signature, wrong typ, foreign or double aud, expired, too long, no jti → invalid_grant, each saying why', async () => {
    const cases: [string, Promise<string>, RegExp][] = [
      ['untrusted issuer', workloadAssertion({ iss: 'https://untrusted.example' }), /not trusted/],
      ['bad signature', workloadAssertion({}, { key: strangerKey }), /signature/],
      ['an access token', workloadAssertion({}, { typ: 'at+jwt' }), /not an authorization grant/],
      ['foreign aud', workloadAssertion({ aud: 'https://as.elsewhere.example' }), /aud/],
      ['ID-JAG with two audiences', workloadAssertion({ aud: [b.issuer, `${b.issuer}/token`], client_id: cb.clientId }, { typ: 'oauth-id-jag+jwt' }), /alone/],
      ['ID-JAG of another client', workloadAssertion({ client_id: otherB.clientId }, { typ: 'oauth-id-jag+jwt' }), /another client/],
      ['expired', workloadAssertion({ iat: b.clock.now() - 600, exp: b.clock.now() - 300 }), /expired/],
      ['too long', workloadAssertion({ exp: b.clock.now() + 7200 }), /longer than 600/],
      ['no jti', workloadAssertion({}, { omit: ['jti'] }), /jti/],
      ['IC-05 unknown subject', workloadAssertion({ email: 'nobody@b.example' }), /not a user here/],
      ['not a JWT', Promise.resolve('not-a-jwt'), /not a JWT/],
    ];
    for (const [name, assertion, reason] of cases) {
      const refused = await redeem(b, await assertion, cb, { resource: RESOURCE_B });
      assert.deepEqual([refused.status, refused.body['error']], [400, 'invalid_grant'], `${name}: ${JSON.stringify(refused.body)}`);
      assert.match(String(refused.body['error_description']), reason, name);
    }
    const missing = await post(b, { grant_type: JWT_BEARER }, cb);
    assert.deepEqual([missing.status, missing.body['error']], [400, 'invalid_request']);
  });

  test('RFC 7523 §3: a workload assertion (aud = the token endpoint) is accepted within the issuer’s scopes, once', async () => {
    const assertion = await workloadAssertion({ aud: `${b.issuer}/token` });
    const granted = await redeem(b, assertion, cb, { resource: RESOURCE_B, scope: 'calc files:read' });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.equal(granted.body['scope'], 'calc', 'the trusted issuer opens calc only');
    const replayed = await redeem(b, assertion, cb, { resource: RESOURCE_B });
    assert.deepEqual([replayed.status, replayed.body['error']], [400, 'invalid_grant']);
  });

  test('RFC 8414: A advertises what it issues for peers; B the jwt-bearer grant and the ID-JAG profile', async () => {
    const metaA = (await (await fetch(`${a.issuer}/.well-known/oauth-authorization-server`)).json()) as Body;
    assert.deepEqual(metaA['identity_chaining_requested_token_types_supported'], [ID_JAG, JWT]);
    assert.ok(!(metaA['grant_types_supported'] as string[]).includes(JWT_BEARER), 'A trusts no issuer');
    const metaB = (await (await fetch(`${b.issuer}/.well-known/oauth-authorization-server`)).json()) as Body;
    assert.ok((metaB['grant_types_supported'] as string[]).includes(JWT_BEARER));
    assert.deepEqual(metaB['authorization_grant_profiles_supported'], ['urn:ietf:params:oauth:grant-profile:id-jag']);
    assert.equal(JSON.stringify(metaB).includes(a.issuer), false, 'the trusted issuers are not disclosed');
  });

  test('a trusted issuer’s new signing key (unknown kid) is fetched from its jwks_uri again, at most every 30 s', async () => {
    const rotated = await a.admin('POST', '/keys/rotate', { publish_ahead_seconds: 0 });
    assert.equal(rotated.status, 200, await rotated.clone().text());
    const { idToken } = await signIn();
    const idJag = (await post(a, idJagRequest(idToken), ca)).body['access_token'] as string;
    const tooSoon = await redeem(b, idJag);
    assert.deepEqual([tooSoon.status, tooSoon.body['error']], [400, 'invalid_grant'], 'the keys were fetched less than 30 s ago');
    assert.match(String(tooSoon.body['error_description']), /signature/);
    b.clock.advance(31);
    const redeemed = await redeem(b, idJag);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
  });

  test('a jwt-bearer token for a user mapped by e-mail carries a user grant: disabling the user at B ends it at once, re-enabling does not revive it', async () => {
    const { idToken } = await signIn();
    const redeemed = await redeem(b, (await post(a, idJagRequest(idToken), ca)).body['access_token'] as string);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const token = redeemed.body['access_token'] as string;
    assert.equal(typeof decodeJwt(token).payload['gid'], 'string', 'the token names its grant');
    assert.ok(await isActive(b, resourceBKey, token));
    assert.equal((await b.admin('POST', `/users/${userB}/disable`)).status, 200);
    assert.equal(await isActive(b, resourceBKey, token), false, 'inactive at once, on this instance');
    assert.equal(await isActive(b2, resourceBKey, token), false, 'and on the other');
    assert.equal((await b.admin('POST', `/users/${userB}/enable`)).status, 200);
    assert.equal(await isActive(b, resourceBKey, token), false, 're-enabling never revives');
    // The user's next sign-in at A works again (a moment after the enable: the cutoff covers the instant of the disable).
    b.clock.advance(2);
    const again = await redeem(b, (await post(a, idJagRequest((await signIn()).idToken), ca)).body['access_token'] as string);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.ok(await isActive(b, resourceBKey, again.body['access_token'] as string));
  });

  test('a jwt-bearer token for a user ends with its grant, its client and its user (revoked, disabled, deleted)', async () => {
    // Revoking the grant (as /account and the console do) ends its token.
    const first = await redeem(b, await workloadAssertion(), cb, { resource: RESOURCE_B });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const firstToken = first.body['access_token'] as string;
    assert.ok(await b.store.revokeGrant(decodeJwt(firstToken).payload['gid'] as string, b.clock.now()));
    assert.equal(await isActive(b, resourceBKey, firstToken), false, 'its grant was revoked');

    // Disabling the client ends it, and enabling the client again does not revive it.
    const second = await redeem(b, await workloadAssertion(), otherB, { resource: RESOURCE_B });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal((await b.admin('POST', `/clients/${otherB.clientId}/disable`)).status, 200);
    assert.equal(await isActive(b, resourceBKey, second.body['access_token'] as string), false, 'its client was disabled');
    assert.equal((await b.admin('POST', `/clients/${otherB.clientId}/enable`)).status, 200);
    assert.equal(await isActive(b, resourceBKey, second.body['access_token'] as string), false, 're-enabling the client never revives');

    // Deleting the user ends it.
    const bob = 'bob@a.example';
    const bobId = await createUser(b, bob);
    const third = await redeem(b, await workloadAssertion({ email: bob }), cb, { resource: RESOURCE_B });
    assert.equal(third.status, 200, JSON.stringify(third.body));
    assert.equal(decodeJwt(third.body['access_token'] as string).payload['sub'], bobId);
    assert.ok(await isActive(b, resourceBKey, third.body['access_token'] as string));
    assert.equal((await b.admin('DELETE', `/users/${bobId}`)).status, 204);
    assert.equal(await isActive(b, resourceBKey, third.body['access_token'] as string), false, 'its user was deleted');
  });

  test('JAG-05: the jwt-dpop grant type (the ID-JAG draft’s example) is an alias of jwt-bearer that needs a DPoP proof; both are advertised', async () => {
    const key = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const proof = () => ({ dpop: createDpopProof(key, { method: 'POST', url: `${b.issuer}/token` }, b.clock.now()) });
    const { idToken } = await signIn();
    const idJag = (await post(a, idJagRequest(idToken), ca)).body['access_token'] as string;
    const withoutProof = await post(b, { grant_type: JWT_DPOP, assertion: idJag }, cb);
    assert.deepEqual([withoutProof.status, withoutProof.body['error']], [400, 'invalid_dpop_proof']);
    assert.match(String(withoutProof.body['error_description']), /needs a DPoP proof/);
    const bound = await post(b, { grant_type: JWT_DPOP, assertion: idJag }, cb, proof());
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(bound.body['access_token'] as string).payload['cnf'], { jkt: key.jkt });
    const replayed = await post(b, { grant_type: JWT_BEARER, assertion: idJag }, cb, proof());
    assert.deepEqual([replayed.status, replayed.body['error']], [400, 'invalid_grant'], 'one assertion, single use under either name');
    // A client that does not hold jwt-bearer may not use its alias either.
    const app = await createApp(b, { grant_types: ['authorization_code'], audiences: [RESOURCE_B], scopes: ['calc'] });
    const refused = await post(b, { grant_type: JWT_DPOP, assertion: await workloadAssertion() }, { clientId: app.clientId, clientSecret: app.clientSecret! }, proof());
    assert.deepEqual([refused.status, refused.body['error']], [400, 'unauthorized_client']);
    const metaB = (await (await fetch(`${b.issuer}/.well-known/oauth-authorization-server`)).json()) as Body;
    for (const grantType of [JWT_BEARER, JWT_DPOP]) assert.ok((metaB['grant_types_supported'] as string[]).includes(grantType), grantType);
  });

  test('an agent may hold the jwt-bearer grant (admin API jwt_bearer): off by default, allowed, then denied again', async () => {
    const created = await b.admin('POST', '/agents', { name: 'reporter', scopes: ['calc'], audiences: [RESOURCE_B] });
    assert.equal(created.status, 201, await created.clone().text());
    const agent = (await created.json()) as { client_id: string; client_secret: string; jwt_bearer: boolean };
    assert.equal(agent.jwt_bearer, false);
    const credentials = { clientId: agent.client_id, clientSecret: agent.client_secret };
    const before = await redeem(b, await workloadAssertion(), credentials, { resource: RESOURCE_B });
    assert.deepEqual([before.status, before.body['error']], [400, 'unauthorized_client']);
    const allowed = await b.admin('PATCH', `/agents/${agent.client_id}`, { jwt_bearer: true });
    assert.equal(allowed.status, 200, await allowed.clone().text());
    assert.equal(((await allowed.json()) as { jwt_bearer: boolean }).jwt_bearer, true);
    const granted = await redeem(b, await workloadAssertion(), credentials, { resource: RESOURCE_B });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const claims = decodeJwt(granted.body['access_token'] as string).payload;
    assert.deepEqual([claims['client_id'], claims['sub'], claims['scope']], [agent.client_id, userB, 'calc']);
    assert.equal((await b.admin('PATCH', `/agents/${agent.client_id}`, { jwt_bearer: false })).status, 200);
    const denied = await redeem(b, await workloadAssertion(), credentials, { resource: RESOURCE_B });
    assert.deepEqual([denied.status, denied.body['error']], [400, 'unauthorized_client']);
    const shown = (await (await b.admin('GET', `/agents/${agent.client_id}`)).json()) as { jwt_bearer: boolean };
    assert.equal(shown.jwt_bearer, false);
  });

  test('TE-06 IC-04 JAG-03: an act in a trusted issuer’s JWT grant or ID-JAG is not carried: B’s token names no actor', async () => {
    // The other domain's chain names its own parties: B records none of it as its own (a forged nested act).
    const act = { sub: 'agt_root', client_id: 'agt_root', sub_profile: 'ai_agent', act: { sub: 'usr_admin', client_id: 'usr_admin' } };
    const cases: [string, Promise<string>][] = [
      ['JWT grant', workloadAssertion({ act, may_act: { sub: 'agt_root' } })],
      ['ID-JAG', workloadAssertion({ act, client_id: cb.clientId }, { typ: 'oauth-id-jag+jwt' })],
    ];
    for (const [what, assertion] of cases) {
      const redeemed = await redeem(b, await assertion, cb, { resource: RESOURCE_B });
      assert.equal(redeemed.status, 200, `${what}: ${JSON.stringify(redeemed.body)}`);
      const token = redeemed.body['access_token'] as string;
      const claims = decodeJwt(token).payload;
      assert.deepEqual([claims['sub'], claims['client_id'], claims['act'], claims['may_act']], [userB, cb.clientId, undefined, undefined], what);
      const introspected = (await (await b.postForm('/introspect', { token }, { authorization: `Bearer ${resourceBKey}` })).json()) as Body;
      assert.deepEqual([introspected['active'], introspected['act']], [true, undefined], what);
    }
  });

  test('IC-06: a revocation at A does not reach B’s token (the documented bound): A issues no new grant and refuses the refresh, B’s token dies at its expiry, B issues no refresh token', async (t) => {
    // CB with the shortest lifetime an operator may set (60 s), and allowed refresh_token: the bound is grant lifetime + this.
    const patched = await b.admin('PATCH', `/clients/${cb.clientId}`, { access_token_ttl_seconds: 60, grant_types: [JWT_BEARER, 'refresh_token'] });
    assert.equal(patched.status, 200, await patched.clone().text());
    t.after(() => b.admin('PATCH', `/clients/${cb.clientId}`, { access_token_ttl_seconds: null, grant_types: [JWT_BEARER] }));
    const shortClient = cb;
    const flow = { clientId: ca.clientId, clientSecret: ca.clientSecret, scope: 'openid email calc offline_access', resource: RESOURCE_A, email };
    const { code, verifier } = await obtainCode(a, flow);
    const signedIn = (await (await redeemCode(a, flow, code, verifier)).json()) as { access_token: string; refresh_token: string };
    assert.ok(signedIn.refresh_token, 'A issued a refresh token');
    const chaining = { grant_type: TE, requested_token_type: JWT, subject_token: signedIn.access_token, subject_token_type: ACCESS_TOKEN, audience: b.issuer, scope: 'calc' };
    const grant = await post(a, chaining, ca);
    assert.equal(grant.status, 200, JSON.stringify(grant.body));
    const redeemed = await redeem(b, grant.body['access_token'] as string, shortClient, { resource: RESOURCE_B, scope: 'calc offline_access' });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body['refresh_token'], undefined, 'no refresh token, even for a client allowed refresh_token');
    const tokenB = redeemed.body['access_token'] as string;
    assert.equal(decodeJwt(tokenB).payload['exp'], b.clock.now() + 60);

    // Alice's grant revoked at A: A refuses to issue another grant from it, and its refresh token is dead.
    assert.ok(await a.store.revokeGrant(decodeJwt(signedIn.access_token).payload['gid'] as string, a.clock.now()));
    const again = await post(a, chaining, ca);
    assert.deepEqual([again.status, again.body['error']], [400, 'invalid_request'], JSON.stringify(again.body));
    const refreshed = await post(a, { grant_type: 'refresh_token', refresh_token: signedIn.refresh_token }, ca);
    assert.deepEqual([refreshed.status, refreshed.body['error']], [400, 'invalid_grant'], JSON.stringify(refreshed.body));

    // B has not heard of it (no channel between the domains): its token lives on until its expiry, then dies.
    assert.equal(await isActive(b, resourceBKey, tokenB), true, 'the bound: alive at B after the revocation at A');
    b.clock.advance(59);
    assert.equal(await isActive(b, resourceBKey, tokenB), true);
    b.clock.advance(2);
    assert.equal(await isActive(b, resourceBKey, tokenB), false, 'dead at its expiry');
    // Nothing at B renews it: the used grant is refused, and B never issued a refresh token to present.
    const replayed = await redeem(b, grant.body['access_token'] as string, shortClient, { resource: RESOURCE_B });
    assert.deepEqual([replayed.status, replayed.body['error']], [400, 'invalid_grant']);
    const refreshAtB = await post(b, { grant_type: 'refresh_token', refresh_token: tokenB }, shortClient);
    assert.deepEqual([refreshAtB.status, refreshAtB.body['error']], [400, 'invalid_grant']);
  });

  // Last: it moves B's clock past what A's grants live.
  test('a trusted issuer’s jwksUri keys serve while a refetch fails only up to crossDomain.jwksMaxStaleSeconds (3600), then refuse saying so', async () => {
    const federated = async () => {
      const now = b.clock.now();
      const assertion = await new SignJWT({ iss: FEDERATED_ISSUER, sub: 'system:serviceaccount:prod:reporter', aud: b.issuer, iat: now, exp: now + 60, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: 'f1' })
        .sign(federatedKey.privateKey);
      return redeem(b, assertion, cb, { resource: RESOURCE_B });
    };
    const fresh = await federated();
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    keysServed = false;
    b.clock.advance(400);
    const stale = await federated();
    assert.equal(stale.status, 200, `past the cache (300 s), within the age limit: ${JSON.stringify(stale.body)}`);
    b.clock.advance(3300);
    const tooOld = await federated();
    assert.deepEqual([tooOld.status, tooOld.body['error']], [400, 'invalid_grant'], JSON.stringify(tooOld.body));
    assert.match(String(tooOld.body['error_description']), /could not be fetched again, and those fetched 3700 s ago are older than the 3600 s allowed/);
    keysServed = true;
    const refetched = await federated();
    assert.equal(refetched.status, 200, JSON.stringify(refetched.body));
  });
});

describe('cross-domain configuration', () => {
  test('a trusted issuer needs exactly one of jwks and jwksUri', async () => {
    const { resolveConfig } = await import('../../src/config.ts');
    assert.throws(() => resolveConfig({ crossDomain: { trustedIssuers: [{ issuer: 'https://idp.example' }] } }), /jwks/);
  });
});
