import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { AgentAuthClient } from '../../packages/sdk/src/agent/index.ts';
import { requestIdJag } from '../../packages/sdk/src/agent/id-jag.ts';
import { TokenRequestFailed } from '../../packages/sdk/src/errors.ts';
import { decodeJwt, freePort, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { createTestDatabase, forEachStore, type TestDatabase } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * Issue 11 item 6, SDK side, against two Mandate instances as two domains (each on its own database, both stores):
 * `AgentAuthClient` at domain B runs the enterprise-managed flow (MCP SEP-990: the user's ID token from domain A,
 * the identity provider, exchanged there for an ID-JAG by `requestIdJag`, then redeemed at B with `jwt-bearer`) and
 * the workload flow (SEP-1933: a workload's JWT as the `jwt-bearer` assertion). B trusts A (its `jwks_uri`) and a
 * workload issuer (inline keys).
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const RESOURCE_A = 'https://api.a.example/mcp';
const RESOURCE_B = 'https://api.b.example/mcp';
const WORKLOAD_ISSUER = 'https://workloads.example';

forEachStore('SDK: enterprise-managed authorization (ID-JAG) and workload jwt-bearer between two Mandate instances', (fixture) => {
  let a: TestServer;
  let b: TestServer;
  let databaseB: TestDatabase;
  const workloadKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let ca: { clientId: string; clientSecret: string };
  let cb: { clientId: string; clientSecret: string };
  let userB: string;
  const email = 'bob@a.example';

  before(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const issuerA = `http://127.0.0.1:${portA}`;
    databaseB = await createTestDatabase(fixture.dialect);
    b = await startTestServer({ url: databaseB.url }, {
      issuer: `http://127.0.0.1:${portB}`,
      port: portB,
      clientMetadataDocuments: { timeoutMs: 20_000 },
      crossDomain: {
        allowHttpLocalhost: true,
        trustedIssuers: [
          { issuer: issuerA, jwksUri: `${issuerA}/jwks.json` },
          { issuer: WORKLOAD_ISSUER, jwks: { keys: [{ ...(await exportJWK(workloadKey.publicKey)), kid: 'w1', alg: 'ES256' }] }, subject: 'sub', assertions: ['jwt'] },
        ],
      },
    });
    await b.admin('POST', '/resources', { resource: RESOURCE_B, scopes: ['calc', 'files:read'] });
    const madeB = await createApp(b, { grant_types: [JWT_BEARER], audiences: [RESOURCE_B], scopes: ['calc', 'files:read'] });
    cb = { clientId: madeB.clientId, clientSecret: madeB.clientSecret! };
    userB = await createUser(b, email);

    a = await startTestServer(fixture, { issuer: issuerA, port: portA });
    await a.admin('POST', '/resources', { resource: RESOURCE_A, scopes: ['calc'] });
    const madeA = await createApp(a, { grant_types: ['authorization_code', TE], audiences: [RESOURCE_A], scopes: ['calc'] });
    ca = { clientId: madeA.clientId, clientSecret: madeA.clientSecret! };
    await createUser(a, email);
    await a.close();
    a = await startTestServer(fixture, { issuer: issuerA, port: portA, crossDomain: { peers: [{ issuer: b.issuer, clients: { [ca.clientId]: cb.clientId } }] } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await databaseB?.drop();
  });

  async function idToken(): Promise<string> {
    const flow = { clientId: ca.clientId, clientSecret: ca.clientSecret, scope: 'openid email', email };
    const { code, verifier } = await obtainCode(a, flow);
    const redeemed = await redeemCode(a, flow, code, verifier);
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    return ((await redeemed.json()) as { id_token: string }).id_token;
  }

  const clientAtB = () => new AgentAuthClient({ issuer: b.issuer, clientId: cb.clientId, clientSecret: cb.clientSecret, clock: () => b.clock.nowMs() });

  test('SEP-990: getTokenByIdJag: the ID token becomes an ID-JAG at A, and the ID-JAG an access token at B for the same person', async () => {
    const identityProvider = { tokenEndpoint: `${a.issuer}/token`, clientId: ca.clientId, clientSecret: ca.clientSecret, idToken: await idToken() };
    const token = await clientAtB().getTokenByIdJag({ identityProvider, resource: RESOURCE_B, scope: 'calc' });
    assert.equal(token.tokenType, 'Bearer');
    assert.deepEqual(token.scope, ['calc']);
    const claims = decodeJwt(token.accessToken).payload;
    assert.deepEqual([claims['iss'], claims['sub'], claims['aud'], claims['client_id']], [b.issuer, userB, RESOURCE_B, cb.clientId]);
  });

  test('requestIdJag surfaces the IdP’s refusals: a bad ID token (invalid_request), an audience that is not a peer (invalid_target)', async () => {
    const identityProvider = { tokenEndpoint: `${a.issuer}/token`, clientId: ca.clientId, clientSecret: ca.clientSecret, idToken: 'not-a-token' };
    await assert.rejects(requestIdJag(identityProvider, { audience: b.issuer, resource: RESOURCE_B }, { clock: Date.now }), (err: unknown) => {
      assert.ok(err instanceof TokenRequestFailed);
      assert.equal(err.error, 'invalid_request');
      return true;
    });
    await assert.rejects(clientAtB().getTokenByIdJag({ identityProvider: { ...identityProvider, idToken: await idToken() }, resource: RESOURCE_B, audience: 'https://as.elsewhere.example' }), (err: unknown) => {
      assert.ok(err instanceof TokenRequestFailed);
      assert.equal(err.error, 'invalid_target');
      return true;
    });
  });

  test('SEP-1933: getTokenByAssertion presents a workload JWT once; a replay is ERR_TOKEN_REQUEST_FAILED invalid_grant', async () => {
    const now = b.clock.now();
    const assertion = await new SignJWT({ iss: WORKLOAD_ISSUER, sub: 'system:serviceaccount:prod:reporter', aud: b.issuer, iat: now, exp: now + 120, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'w1' })
      .sign(workloadKey.privateKey);
    const client = clientAtB();
    const token = await client.getTokenByAssertion({ assertion, resource: RESOURCE_B, scope: 'files:read' });
    assert.equal(decodeJwt(token.accessToken).payload['sub'], 'system:serviceaccount:prod:reporter');
    assert.deepEqual(token.scope, ['files:read']);
    await assert.rejects(client.getTokenByAssertion({ assertion, resource: RESOURCE_B }), (err: unknown) => {
      assert.ok(err instanceof TokenRequestFailed);
      assert.equal(err.error, 'invalid_grant');
      assert.match(err.errorDescription ?? '', /used before/);
      return true;
    });
  });
});
