import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AgentAuthClient } from '../../packages/sdk/src/agent/index.ts';
import { TokenRequestFailed } from '../../packages/sdk/src/errors.ts';
import { decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createUser } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * `AgentAuthClient.requestApproval` (OpenID CIBA Core 1.0, poll mode) against the real server: the agent asks, an
 * approver decides through the admin API, and the awaited `tokens` settle, by polling (`approvalEvents: false`, or
 * when the stream fails) or on the server's approval events stream (the default where the server offers it). The client's `sleep` is the test's
 * scheduler: each wait advances the server's clock by the interval and resolves only when the test lets it, so no
 * real time passes and each poll happens after the step the test wants.
 */
forEachStore('SDK requestApproval (CIBA)', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string };
  let approverToken: string;
  let userId: string;
  const resource = 'https://sdk-ciba.example.com/mcp';

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { scopes: ['calc'], audiences: [resource] }, resource);
    userId = await createUser(server, 'sdk-ciba@example.com');
    await createUser(server, 'sdk-approver@example.com', { roles: ['approver'] });
    const minted = await server.admin('POST', '/admin-tokens', { name: 'approver', role: 'approver', user: 'sdk-approver@example.com' });
    approverToken = ((await minted.json()) as { token: string }).token;
  });
  after(() => server.close());

  /** A scheduler the test drives: `next()` resolves once the client waits, `release()` ends that wait. */
  function steppedSleep() {
    const waits: { ms: number; resolve: () => void }[] = [];
    let notify: (() => void) | undefined;
    return {
      sleep: (ms: number) =>
        new Promise<void>((resolve) => {
          server.clock.advance(ms / 1000);
          waits.push({ ms, resolve });
          notify?.();
        }),
      async next(): Promise<number> {
        while (waits.length === 0) await new Promise<void>((resolve) => (notify = resolve));
        return waits[0]!.ms;
      },
      release: () => waits.shift()!.resolve(),
    };
  }

  const decide = async (binding: string, decision: 'approve' | 'deny') => {
    const list = (await (await fetch(`${server.issuer}/admin/v1/approvals?status=pending`, { headers: { authorization: `Bearer ${approverToken}` } })).json()) as { approvals: { id: string; justification: string }[] };
    const id = list.approvals.find((a) => a.justification === binding)!.id;
    const response = await fetch(`${server.issuer}/admin/v1/approvals/${id}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approverToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision, reason: 'test' }),
    });
    assert.equal(response.status, 200);
  };

  test('CIBA-03 the awaited approval: pending polls at the server’s interval, then the approver approves and the tokens arrive', async () => {
    const scheduler = steppedSleep();
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, sleep: scheduler.sleep, approvalEvents: false });
    const pending = await client.requestApproval({ loginHint: 'sdk-ciba@example.com', scope: 'calc', resource, bindingMessage: 'SDK approve' });
    assert.equal(pending.interval, 5);
    assert.equal(await scheduler.next(), 5000, 'the first poll waits the server’s interval');
    scheduler.release();
    assert.equal(await scheduler.next(), 5000, 'pending: it waits again');
    await decide('SDK approve', 'approve');
    scheduler.release();
    const tokens = await pending.tokens;
    assert.equal(decodeJwt(tokens.accessToken).payload['sub'], userId);
    assert.equal(tokens.scope, 'openid calc');
  });

  test('CIBA-03 a denial rejects the awaited tokens with access_denied', async () => {
    const scheduler = steppedSleep();
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, sleep: scheduler.sleep, approvalEvents: false });
    const pending = await client.requestApproval({ loginHint: 'sdk-ciba@example.com', scope: 'calc', resource, bindingMessage: 'SDK deny' });
    const outcome = pending.tokens.then(
      () => assert.fail('expected a denial'),
      (err: unknown) => err,
    );
    await scheduler.next();
    await decide('SDK deny', 'deny');
    scheduler.release();
    const err = await outcome;
    assert.ok(err instanceof TokenRequestFailed);
    assert.equal(err.error, 'access_denied');
  });

  /** A `sleep` that must never be called: the stream, not a poll loop, brings the decision. */
  const noSleep = () => Promise.reject(new Error('polled: the events stream should have answered'));

  test('issue 12 item 5: on the approval events stream the agent waits without polling; the approval brings the tokens at once', async () => {
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, sleep: noSleep });
    const pending = await client.requestApproval({ loginHint: 'sdk-ciba@example.com', scope: 'calc', resource, bindingMessage: 'SDK stream approve' });
    await decide('SDK stream approve', 'approve');
    const tokens = await pending.tokens;
    assert.equal(decodeJwt(tokens.accessToken).payload['sub'], userId);
  });

  test('issue 12 item 5: a denial on the stream rejects the awaited tokens with access_denied, without polling', async () => {
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, sleep: noSleep });
    const pending = await client.requestApproval({ loginHint: 'sdk-ciba@example.com', scope: 'calc', resource, bindingMessage: 'SDK stream deny' });
    const outcome = pending.tokens.then(() => assert.fail('expected a denial'), (err: unknown) => err);
    await decide('SDK stream deny', 'deny');
    const err = await outcome;
    assert.ok(err instanceof TokenRequestFailed);
    assert.equal(err.error, 'access_denied');
  });

  test('issue 12 item 5: when the stream is refused the awaited tokens fall back to polling', async () => {
    const scheduler = steppedSleep();
    // A fetch that refuses the events endpoint alone, as a proxy that does not pass it would.
    const refusing: typeof fetch = (input, init) => (String(input).endsWith('/approval-events') ? Promise.resolve(new Response('no', { status: 404 })) : fetch(input, init));
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, sleep: scheduler.sleep, fetch: refusing });
    const pending = await client.requestApproval({ loginHint: 'sdk-ciba@example.com', scope: 'calc', resource, bindingMessage: 'SDK fallback' });
    assert.equal(await scheduler.next(), 5000, 'polling at the server’s interval');
    await decide('SDK fallback', 'approve');
    scheduler.release();
    assert.equal(decodeJwt((await pending.tokens).accessToken).payload['sub'], userId);
  });
});
