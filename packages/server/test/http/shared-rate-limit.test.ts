import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * Issue 13 item 1: with `rateLimit.shared`, two instances on one database count a client's token requests together.
 * Each instance syncs its counts once a second; here the test syncs them itself, at the moments it names.
 */
forEachStore(
  'shared rate limits',
  (fixture) => {
    const servers: TestServer[] = [];
    afterEach(async () => {
      for (const server of servers.splice(0)) await server.close();
    });
    const twoInstances = async (shared: boolean) => {
      const rateLimit = { tokenPerClientPerMinute: 4, tokenPerIpPerMinute: 0, shared };
      const a = await startTestServer(fixture, { rateLimit });
      const b = await startTestServer(fixture, { rateLimit });
      servers.push(a, b);
      // One instant for both frozen clocks, so that they count the same minute.
      b.clock.advance((a.clock.nowMs() - b.clock.nowMs()) / 1000);
      return [a, b] as const;
    };
    const sync = (server: TestServer) => server.context.sharedRateCounts!.sync();

    test('MULTI-05 two instances with shared rate limits allow a client its rate once between them', async () => {
      const [a, b] = await twoInstances(true);
      const agent = await registerAgentAndResource(a);
      const other = await registerAgentAndResource(a, { name: 'another agent' });
      const token = (server: TestServer, client = agent) =>
        server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(client.clientId, client.clientSecret) });

      assert.equal((await token(a)).status, 200);
      assert.equal((await token(a)).status, 200);
      await sync(a);
      assert.equal((await token(b)).status, 200);
      await sync(b);
      // B has counted one request itself, but knows of all three: the fourth is the last the minute allows.
      assert.equal((await token(b)).status, 200);
      const refused = await token(b);
      assert.equal(refused.status, 429);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_request');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1 && Number(refused.headers.get('retry-after')) <= 60);
      // A learns of B's requests at its next sync (the key is near its limit, so it is read back) and refuses too.
      await sync(b);
      await sync(a);
      assert.equal((await token(a)).status, 429);
      // Another client has its own count.
      assert.equal((await token(a, other)).status, 200);
      assert.equal((await token(b, other)).status, 200);
    });

    test('MULTI-05 without rateLimit.shared each instance counts alone (N instances allow N times the rate)', async () => {
      const [a, b] = await twoInstances(false);
      assert.equal(a.context.sharedRateCounts, undefined);
      const agent = await registerAgentAndResource(a);
      const token = (server: TestServer) =>
        server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      for (const server of [a, b]) for (let i = 0; i < 4; i++) assert.equal((await token(server)).status, 200);
      assert.equal((await token(a)).status, 429);
    });
  },
  { databasePer: 'test' },
);
