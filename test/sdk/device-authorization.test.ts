import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AgentAuthClient } from '../../packages/sdk/src/agent/index.ts';
import { TokenRequestFailed } from '../../packages/sdk/src/errors.ts';
import { registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';

/**
 * `AgentAuthClient.startDeviceAuthorization` (RFC 8628) against the real server: the polling honours the server's
 * interval and `slow_down`, ends on `expired_token`, and stops when its signal aborts. The client's `sleep` is the
 * test's scheduler, which moves the server's clock by as much as the test decides, so no real time passes.
 */
forEachStore('SDK startDeviceAuthorization (RFC 8628)', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string };
  const resource = 'https://sdk-device.example.com/mcp';

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { scopes: ['calc'] }, resource);
  });
  after(() => server.close());

  const clientWith = (sleep: (ms: number) => Promise<void>) =>
    new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, sleep });

  test('DAG-01 a poll that comes too soon gets slow_down, and the client waits 5 s longer from then on; expired_token ends the wait', async () => {
    const waits: number[] = [];
    const client = clientWith(async (ms) => {
      waits.push(ms);
      // The second wait passes no time at all (too soon); the others the full interval, until the code expires.
      if (waits.length !== 2) server.clock.advance(ms / 1000);
    });
    const authorization = await client.startDeviceAuthorization({ scope: 'calc', resource });
    assert.equal(authorization.interval, 5);
    assert.match(authorization.verificationUri, /\/device$/);
    assert.equal(authorization.expiresAt, server.clock.now() + 600);
    const failure = await authorization.waitForTokens().then(() => assert.fail('no one approved'), (err: unknown) => err);
    assert.ok(failure instanceof TokenRequestFailed);
    assert.equal(failure.error, 'expired_token');
    // The second poll came 0 s after the first: slow_down → 10 s from then on.
    assert.deepEqual(waits.slice(0, 3), [5000, 5000, 10_000]);
    assert.ok(waits.slice(2).every((ms) => ms === 10_000));
    assert.equal(authorization.interval, 10);
  });

  test('DAG waitForTokens stops with the signal’s reason when it aborts', async () => {
    const controller = new AbortController();
    let waits = 0;
    const client = clientWith(async (ms) => {
      server.clock.advance(ms / 1000);
      if (++waits === 2) controller.abort(new Error('the user pressed Ctrl-C'));
    });
    const authorization = await client.startDeviceAuthorization({ scope: 'calc', resource });
    await assert.rejects(authorization.waitForTokens({ signal: controller.signal }), /Ctrl-C/);
    assert.equal(waits, 2);
  });
});
