import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, formBody, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { createUser } from '../helpers/user-flow.ts';

/**
 * Server-Sent Events for waiting agents (issue 12 item 5) over real HTTP on both stores: an agent with a pending
 * approval (a CIBA auth_req_id, or the approval request id a client_credentials refusal named) opens
 * `POST /approval-events`, authenticated as itself, and is told `pending`, then the decision (or the expiry), after
 * which the stream ends; nobody else's request can be watched. The test reads the stream's events as they come.
 */

type Status = { status: string; expires_at?: number };

forEachStore('approval events for waiting agents', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string };
  let n = 0;
  const uri = 'https://approval-events.example.com/mcp';

  before(async () => {
    server = await startTestServer(fixture, { revocationEventsPollMs: 100 });
    agent = await registerAgentAndResource(server, { scopes: ['calc', 'deploy'], audiences: [uri] }, uri);
    await createUser(server, 'events-user@example.com');
  });
  after(() => server.close());

  const open = (params: Record<string, string>, who = agent) =>
    fetch(`${server.issuer}/approval-events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(who.clientId, who.clientSecret) }, body: formBody(params) });

  /** Reads `status` events from the stream as they come. */
  function events(response: Response) {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    return {
      async next(): Promise<Status | null> {
        for (;;) {
          const match = /(?:^|\n)event: status\ndata: (.*)\n\n/.exec(buffer);
          if (match) {
            buffer = buffer.slice(match.index + match[0].length);
            return JSON.parse(match[1]!) as Status;
          }
          const { value, done } = await reader.read();
          if (done) return null;
          buffer += decoder.decode(value, { stream: true });
        }
      },
    };
  }

  async function ask(extra: Record<string, string> = {}): Promise<{ authReqId: string; approvalId: string }> {
    const binding = `events-${++n}`;
    const asked = await server.postForm('/bc-authorize', { scope: 'openid calc', resource: uri, login_hint: 'events-user@example.com', binding_message: binding, ...extra }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(asked.status, 200);
    const list = (await (await server.admin('GET', '/approvals')).json()) as { approvals: { id: string; justification: string }[] };
    return { authReqId: ((await asked.json()) as { auth_req_id: string }).auth_req_id, approvalId: list.approvals.find((a) => a.justification === binding)!.id };
  }

  test('metadata advertises approval_events_endpoint', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(metadata['approval_events_endpoint'], `${server.issuer}/approval-events`);
  });

  test('a CIBA agent is told pending, then approved, and the stream ends; its next poll gets the token', async () => {
    const { authReqId, approvalId } = await ask();
    const response = await open({ auth_req_id: authReqId });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const stream = events(response);
    const first = await stream.next();
    assert.equal(first?.status, 'pending');
    assert.equal(typeof first?.expires_at, 'number');
    assert.equal((await server.admin('POST', `/approvals/${approvalId}/decision`, { decision: 'approve' })).status, 200);
    assert.equal((await stream.next())?.status, 'approved');
    assert.equal(await stream.next(), null, 'the stream ends with the decision');
    const token = await server.postForm('/token', { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(token.status, 200, 'one poll, at once, after the stream');
  });

  test('a decision on this instance wakes the stream at once, however long its read interval', { timeout: 30_000 }, async () => {
    const slow = await startTestServer(fixture, { revocationEventsPollMs: 60_000 });
    try {
      const slowAgent = await registerAgentAndResource(slow, { scopes: ['calc'], audiences: [uri] }, uri);
      const asked = await slow.postForm('/bc-authorize', { scope: 'openid calc', resource: uri, login_hint: 'events-user@example.com', binding_message: 'slow' }, { authorization: basicAuth(slowAgent.clientId, slowAgent.clientSecret) });
      const { auth_req_id } = (await asked.json()) as { auth_req_id: string };
      const response = await fetch(`${slow.issuer}/approval-events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(slowAgent.clientId, slowAgent.clientSecret) }, body: formBody({ auth_req_id }) });
      const stream = events(response);
      assert.equal((await stream.next())?.status, 'pending');
      const list = (await (await slow.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; justification: string }[] };
      const id = list.approvals.find((a) => a.justification === 'slow')!.id;
      assert.equal((await slow.admin('POST', `/approvals/${id}/decision`, { decision: 'approve' })).status, 200);
      assert.equal((await stream.next())?.status, 'approved', 'within the test’s timeout, far below the 60 s read interval');
    } finally {
      await slow.close();
    }
  });

  test('a denial and an expiry end the stream too', async () => {
    const denied = await ask();
    const deniedStream = events(await open({ auth_req_id: denied.authReqId }));
    assert.equal((await deniedStream.next())?.status, 'pending');
    assert.equal((await server.admin('POST', `/approvals/${denied.approvalId}/decision`, { decision: 'deny' })).status, 200);
    assert.equal((await deniedStream.next())?.status, 'denied');

    const lapsing = await ask({ requested_expiry: '30' });
    const lapsingStream = events(await open({ auth_req_id: lapsing.authReqId }));
    assert.equal((await lapsingStream.next())?.status, 'pending');
    server.clock.advance(31);
    assert.equal((await lapsingStream.next())?.status, 'expired');
    assert.equal(await lapsingStream.next(), null);
  });

  test('the approval request a client_credentials refusal names can be watched by the agent that asked', async () => {
    const resources = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
    const id = resources.resources.find((r) => r.resource === uri)!.id;
    await server.admin('PATCH', `/resources/${id}`, { scopes: ['calc', { name: 'deploy', risk: 'high' }] });
    assert.equal((await server.admin('PUT', `/resources/${id}/policies/deploy`, { policy: 'admin_approval' })).status, 200);
    const refused = await server.postForm('/token', { grant_type: 'client_credentials', resource: uri, scope: 'deploy' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(refused.status, 400);
    const approvalId = /approval request (apr_[A-Za-z0-9_-]+)/.exec(((await refused.json()) as { error_description: string }).error_description)![1]!;
    const stream = events(await open({ approval_request: approvalId }));
    assert.equal((await stream.next())?.status, 'pending');
    assert.equal((await server.admin('POST', `/approvals/${approvalId}/decision`, { decision: 'approve' })).status, 200);
    assert.equal((await stream.next())?.status, 'approved');
    const granted = await server.postForm('/token', { grant_type: 'client_credentials', resource: uri, scope: 'deploy' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(granted.status, 200);
  });

  test('only the agent that asked: another client’s request, an unknown one, none or two → OAuth errors; no credentials → 401', async () => {
    const { authReqId, approvalId } = await ask();
    const other = await registerAgentAndResource(server, { scopes: ['calc'], audiences: [uri] }, uri);
    const errorOf = async (response: Response) => {
      assert.equal(response.status, 400);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      return ((await response.json()) as { error: string }).error;
    };
    assert.equal(await errorOf(await open({ auth_req_id: authReqId }, other)), 'invalid_grant');
    assert.equal(await errorOf(await open({ approval_request: approvalId }, other)), 'invalid_grant');
    assert.equal(await errorOf(await open({ auth_req_id: 'not-an-id' })), 'invalid_grant');
    assert.equal(await errorOf(await open({})), 'invalid_request');
    assert.equal(await errorOf(await open({ auth_req_id: authReqId, approval_request: approvalId })), 'invalid_request');
    const anonymous = await fetch(`${server.issuer}/approval-events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody({ auth_req_id: authReqId }) });
    assert.equal(anonymous.status, 401);
  });

  test('RATE-SSE opening streams is rate limited per client and per address: 429, Retry-After, an RFC 6749 body', async () => {
    // A server of its own: every request here is from 127.0.0.1, and its frozen clock refills no bucket.
    const limited = await startTestServer(fixture, { rateLimit: { tokenPerClientPerMinute: 2, tokenPerIpPerMinute: 4 } });
    try {
      const busy = await registerAgentAndResource(limited, { scopes: ['calc'], audiences: [uri] }, uri);
      const calm = await registerAgentAndResource(limited, { scopes: ['calc'], audiences: [uri] }, uri);
      const openAt = (who: { clientId: string; clientSecret: string }) =>
        fetch(`${limited.issuer}/approval-events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(who.clientId, who.clientSecret) }, body: formBody({ auth_req_id: 'unknown' }) });
      const refusedWith = async (response: Response) => {
        assert.equal(response.status, 429);
        assert.match(response.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
        const body = (await response.json()) as { error: string; error_description: string };
        assert.equal(body.error, 'invalid_request');
        assert.match(body.error_description, /too many approval event streams; retry after \d+s/);
      };
      // Each request counts, answered or not: two for the busy client, then its third is refused.
      for (let i = 0; i < 2; i++) assert.equal((await openAt(busy)).status, 400);
      await refusedWith(await openAt(busy));
      // Another client has its own count, until the address's 4 are spent (the refused request counted too).
      assert.equal((await openAt(calm)).status, 400);
      await refusedWith(await openAt(calm));
      const anonymous = await fetch(`${limited.issuer}/approval-events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody({}) });
      await refusedWith(anonymous);
    } finally {
      await limited.close();
    }
  });

  test('RATE-SSE with rateLimit.shared two instances count a client’s streams together', async () => {
    const rateLimit = { tokenPerClientPerMinute: 3, tokenPerIpPerMinute: 0, shared: true };
    const a = await startTestServer(fixture, { rateLimit });
    const b = await startTestServer(fixture, { rateLimit });
    try {
      // One instant for both frozen clocks, so that they count the same minute.
      b.clock.advance((a.clock.nowMs() - b.clock.nowMs()) / 1000);
      const sharedAgent = await registerAgentAndResource(a, { scopes: ['calc'], audiences: [uri] }, uri);
      const openAt = (at: TestServer) =>
        fetch(`${at.issuer}/approval-events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(sharedAgent.clientId, sharedAgent.clientSecret) }, body: formBody({ auth_req_id: 'unknown' }) });
      assert.equal((await openAt(a)).status, 400);
      assert.equal((await openAt(a)).status, 400);
      await a.context.sharedRateCounts!.sync();
      await b.context.sharedRateCounts!.sync();
      assert.equal((await openAt(b)).status, 400, 'the third of the minute, counted by B');
      await b.context.sharedRateCounts!.sync();
      const refused = await openAt(b);
      assert.equal(refused.status, 429, 'B knows of A’s two and its own');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_request');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
