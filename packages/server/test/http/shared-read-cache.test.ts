import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * The read cache (store/read-cache.ts) on two instances of one database: what one instance changes, the other's next
 * request sees, with no wait and no sync: on PostgreSQL through the shared `cache_version` sequence every write
 * advances, on SQLite through `data_version`. Each instance has read (and cached) the records first.
 */
forEachStore('read cache across instances', (fixture) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  const twoInstances = async () => {
    const overrides = { rateLimit: { tokenPerClientPerMinute: 0, tokenPerIpPerMinute: 0 } };
    const a = await startTestServer(fixture, overrides);
    const b = await startTestServer(fixture, overrides);
    servers.push(a, b);
    return [a, b] as const;
  };

  test('MULTI-06 a client disabled on instance A is refused on instance B at once; re-enabled, B accepts it again', async () => {
    const [a, b] = await twoInstances();
    const agent = await registerAgentAndResource(a);
    const token = (server: TestServer) =>
      server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    // B reads the client (and the resource) into its cache, twice.
    assert.equal((await token(b)).status, 200);
    assert.equal((await token(b)).status, 200);
    assert.equal((await a.admin('POST', `/agents/${agent.clientId}/disable`)).status, 200);
    const refused = await token(b);
    assert.equal(refused.status, 401, 'the next request to B sees the disable');
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');
    assert.equal((await a.admin('POST', `/agents/${agent.clientId}/enable`)).status, 200);
    assert.equal((await token(b)).status, 200);
  });

  test('MULTI-06 a token revoked by instance A is inactive at B’s introspection at once', async () => {
    const [a, b] = await twoInstances();
    const resource = 'https://revoked-elsewhere.example.com/mcp';
    const agent = await registerAgentAndResource(a, {}, resource);
    // Each instance is its own issuer here (its port): B issues and introspects, A revokes through its store.
    const issued = await b.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const { access_token } = (await issued.json()) as { access_token: string };
    const introspect = async (server: TestServer) =>
      ((await (await server.postForm('/introspect', { token: access_token }, { authorization: `Bearer ${agent.apiKey}` })).json()) as { active: boolean }).active;
    assert.equal(await introspect(b), true);
    assert.equal(await introspect(b), true, 'read twice: B holds what it read');
    const { jti, exp } = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number };
    await a.store.revokeTokenId(jti, exp, a.clock.now());
    assert.equal(await introspect(b), false, 'the next introspection at B sees the revocation');
  });
});
