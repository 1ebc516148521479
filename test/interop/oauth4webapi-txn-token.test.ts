import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { basicAuth, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';

/**
 * Transaction Tokens (issue 11 item 5) with code nobody here wrote: panva's oauth4webapi requests a Txn-Token as a
 * gateway (its generic token endpoint request, authenticated with the resource server's API key) and reads the
 * draft's response (`N_A`, `issued_token_type` txn_token, no refresh token); panva's jose verifies the Txn-Token
 * against our published JWKS as a receiving workload would (`typ: txntoken+jwt`, `aud` = the trust domain), and
 * refuses it for another trust domain or as an access token.
 */
forEachStore('oauth4webapi and jose: Transaction Tokens', (fixture) => {
  let server: TestServer;
  const trustDomain = 'interop.trust-domain.example';
  const gateway = 'https://gw-txn-interop.example.com/api';
  let apiKey: string;
  let agentToken: string;

  before(async () => {
    server = await startTestServer(fixture, { transactionTokens: { trustDomain } });
    apiKey = ((await (await server.admin('POST', '/resources', { resource: gateway, scopes: ['trade'], txn_tokens: true })).json()) as { api_key: string }).api_key;
    const agent = (await (await server.admin('POST', '/agents', { name: 'txn interop', scopes: ['trade'], audiences: [gateway] })).json()) as { client_id: string; client_secret: string };
    const issued = await server.postForm('/token', { grant_type: 'client_credentials', resource: gateway, scope: 'trade' }, { authorization: basicAuth(agent.client_id, agent.client_secret) });
    agentToken = ((await issued.json()) as { access_token: string }).access_token;
  });
  after(() => server.close());

  test('TT-08 oauth4webapi reads the Txn-Token response; TT-11 jose verifies it with our JWKS, and refuses a wrong aud or typ', async () => {
    const issuer = new URL(server.issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    const client: oauth.Client = { client_id: gateway };
    const apiKeyAuth: oauth.ClientAuth = (_as, _client, _body, headers) => headers.set('authorization', `Bearer ${apiKey}`);
    const request = (scope: string) =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        apiKeyAuth,
        'urn:ietf:params:oauth:grant-type:token-exchange',
        {
          requested_token_type: 'urn:ietf:params:oauth:token-type:txn_token',
          audience: trustDomain,
          scope,
          subject_token: agentToken,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          request_details: JSON.stringify({ action: 'BUY' }),
        },
        insecure,
      );

    // RFC 8693 §2.2.1: `N_A` for a token that is not an access token; oauth4webapi accepts it once told to.
    const options = { recognizedTokenTypes: { n_a: () => {} } };
    const response = await oauth.processGenericTokenEndpointResponse(as, client, await request('trade'), options);
    assert.equal(response.token_type, 'n_a', 'oauth4webapi lower-cases token_type');
    assert.equal(response['issued_token_type'], 'urn:ietf:params:oauth:token-type:txn_token');
    assert.equal(response.refresh_token, undefined);

    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!), { [Symbol.for('jose.allowInsecureRequests')]: true } as never);
    const verified = await jwtVerify(response.access_token, jwks, { typ: 'txntoken+jwt', audience: trustDomain, issuer: server.issuer, currentDate: new Date(server.clock.nowMs()) });
    assert.equal(verified.protectedHeader.typ, 'txntoken+jwt');
    assert.deepEqual([verified.payload['scope'], verified.payload['req_wl'], verified.payload['tctx']], ['trade', gateway, { action: 'BUY' }]);
    assert.equal(typeof verified.payload['txn'], 'string');

    await assert.rejects(jwtVerify(response.access_token, jwks, { typ: 'txntoken+jwt', audience: 'elsewhere.example', currentDate: new Date(server.clock.nowMs()) }), joseErrors.JWTClaimValidationFailed);
    await assert.rejects(jwtVerify(response.access_token, jwks, { typ: 'at+jwt', currentDate: new Date(server.clock.nowMs()) }), joseErrors.JWTClaimValidationFailed);

    await assert.rejects(oauth.processGenericTokenEndpointResponse(as, client, await request('trade exec'), options), (err: unknown) => {
      assert.ok(err instanceof oauth.ResponseBodyError);
      assert.equal(err.error, 'invalid_scope');
      assert.equal(err.error_description, "scope exec exceeds the subject token's scope");
      return true;
    });
  });
});
