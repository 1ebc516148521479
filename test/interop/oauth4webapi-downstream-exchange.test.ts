import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { basicAuth, decodeJwt, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';

/**
 * A token-exchange client nobody here wrote (panva's oauth4webapi, its generic token endpoint request) as a resource
 * server exchanging the token it received for one to its downstream (issue 11 item 2), authenticated with its API
 * key as a bearer credential, and receiving our refusal as its ResponseBodyError.
 */
forEachStore('oauth4webapi: a resource server’s downstream exchange', (fixture) => {
  let server: TestServer;
  const gateway = 'https://gw-interop.example.com/mcp';
  const downstream = 'https://down-interop.example.com/mcp';
  let apiKey: string;
  let agentToken: string;

  before(async () => {
    server = await startTestServer(fixture);
    assert.equal((await server.admin('POST', '/resources', { resource: downstream, scopes: ['files:read'] })).status, 201);
    apiKey = ((await (await server.admin('POST', '/resources', { resource: gateway, scopes: ['files:read'], downstream_resources: [downstream] })).json()) as { api_key: string }).api_key;
    const agent = (await (await server.admin('POST', '/agents', { name: 'interop', scopes: ['files:read'], audiences: [gateway, downstream] })).json()) as { client_id: string; client_secret: string };
    const issued = await server.postForm('/token', { grant_type: 'client_credentials', resource: gateway, scope: 'files:read' }, { authorization: basicAuth(agent.client_id, agent.client_secret) });
    agentToken = ((await issued.json()) as { access_token: string }).access_token;
  });
  after(() => server.close());

  test('TE-05 oauth4webapi exchanges with the resource server’s API key and reads the RFC 8693 response; TE-04 refusal as ResponseBodyError', async () => {
    const issuer = new URL(server.issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    const client: oauth.Client = { client_id: gateway };
    const apiKeyAuth: oauth.ClientAuth = (_as, _client, _body, headers) => headers.set('authorization', `Bearer ${apiKey}`);
    const exchange = (resource: string) =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        apiKeyAuth,
        'urn:ietf:params:oauth:grant-type:token-exchange',
        { subject_token: agentToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource },
        insecure,
      );

    const response = await oauth.processGenericTokenEndpointResponse(as, client, await exchange(downstream));
    assert.equal(response.token_type, 'bearer');
    assert.equal(response['issued_token_type'], 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(response.scope, 'files:read');
    const claims = decodeJwt(response.access_token).payload;
    assert.equal(claims['aud'], downstream);
    assert.deepEqual(claims['act'], { sub: gateway, client_id: gateway, sub_profile: 'resource_server' });

    await assert.rejects(oauth.processGenericTokenEndpointResponse(as, client, await exchange(gateway)), (err: unknown) => {
      assert.ok(err instanceof oauth.ResponseBodyError);
      assert.equal(err.error, 'invalid_target');
      assert.equal(err.error_description, `resource ${gateway} is not an allowed downstream of resource server ${gateway}`);
      return true;
    });
  });
});
