import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('token endpoint rate limits', (fixture) => {
  // A server per test: every request here comes from 127.0.0.1, so a shared server would carry one test's
  // address bucket into the next.
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(fixture, { rateLimit: { tokenPerClientPerMinute: 3, tokenPerIpPerMinute: 6 } });
  });
  afterEach(() => server.close());

  test('per client: the 4th request in a minute → 429 with Retry-After; other clients are unaffected; one audit row per burst', async () => {
    const busy = await registerAgentAndResource(server);
    const calm = await registerAgentAndResource(server);
    const ask = (agent: { clientId: string; clientSecret: string }) =>
      server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    for (let i = 0; i < 3; i++) assert.equal((await ask(busy)).status, 200);
    for (let i = 0; i < 2; i++) {
      const limited = await ask(busy);
      assert.equal(limited.status, 429);
      assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(((await limited.json()) as { error: string }).error, 'invalid_request');
    }
    assert.equal((await ask(calm)).status, 200);
    const rows = await fixture.store.listAuditRows({ event: 'token.refused', clientId: busy.clientId, limit: 10 });
    assert.equal(rows.length, 1, 'a burst of refusals is audited once');
    assert.equal(rows[0]?.detail['reason'], 'rate limited by client');
  });

  test('per address: unauthenticated floods hit the address limit', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const response = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('agt_nobody', 'x') });
      if (response.status === 429) limited = response;
      else assert.equal(response.status, 401);
    }
    assert.ok(limited, 'the address limit never triggered');
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
  });
});
