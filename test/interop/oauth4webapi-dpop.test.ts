import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { type DpopResource, startDpopResource } from '../helpers/dpop-resource.ts';

/**
 * DPoP with a client nobody here wrote: panva's oauth4webapi makes the proofs (WebCrypto keys, its own nonce
 * handling) against the authorization server (nonces required) and a resource guarded by the SDK's node middleware
 * (its own nonces), over real HTTP. Our proof verification, thumbprints, `ath` and nonce errors must be what an
 * independent implementation of RFC 9449 expects.
 */
forEachStore('oauth4webapi DPoP interop (RFC 9449)', (fixture) => {
  let server: TestServer;
  let resource: DpopResource;
  let resourceUrl: string;
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startTestServer(fixture, { dpop: { nonceRequired: true } });
    resource = await startDpopResource(server);
    resourceUrl = resource.url;
    agent = await registerAgentAndResource(server, { scopes: ['calc'] }, resourceUrl);
  });
  after(async () => {
    await resource.close();
    await server.close();
  });

  test('DP-14 DP-16 oauth4webapi: use_dpop_nonce at the token endpoint, retry → DPoP token; at the resource, use_dpop_nonce, retry → 200', async () => {
    const insecure = { [oauth.allowInsecureRequests]: true };
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    assert.ok(as.dpop_signing_alg_values_supported?.includes('ES256'));
    const client: oauth.Client = { client_id: agent.clientId };
    const auth = oauth.ClientSecretBasic(agent.clientSecret);
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const request = () => oauth.clientCredentialsGrantRequest(as, client, auth, { resource: resourceUrl, scope: 'calc' }, { ...insecure, DPoP });

    let nonceErrors = 0;
    let tokens: oauth.TokenEndpointResponse;
    try {
      tokens = await oauth.processClientCredentialsResponse(as, client, await request());
    } catch (err) {
      assert.ok(oauth.isDPoPNonceError(err), String(err));
      nonceErrors++;
      tokens = await oauth.processClientCredentialsResponse(as, client, await request());
    }
    assert.equal(nonceErrors, 1);
    assert.equal(tokens.token_type, 'dpop');
    const jkt = await DPoP.calculateThumbprint();

    const call = () => oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(resourceUrl), new Headers(), null, { ...insecure, DPoP });
    let response: Response;
    try {
      response = await call();
    } catch (err) {
      assert.ok(oauth.isDPoPNonceError(err), String(err));
      nonceErrors++;
      response = await call();
    }
    assert.equal(nonceErrors, 2, 'the resource asked for its own nonce once');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { subject: agent.clientId, jkt });
  });
});
