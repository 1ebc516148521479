import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { httpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { forEachStore } from '../helpers/stores.ts';
import { createUser } from '../helpers/user-flow.ts';

/**
 * OpenID CIBA Core 1.0 ping mode (§10.2, issue 12 item 3) over real HTTP on both stores: an agent registered for
 * ping names its notification endpoint; once an approver decides, the server POSTs exactly `{"auth_req_id": …}`
 * with the client's own bearer token (CIBA-05), retried after a failure on the server's frozen clock; the agent
 * then polls once. Tests wait for the receiver's requests, never for time.
 */

const CIBA = 'urn:openid:params:grant-type:ciba';
const NOTIFICATION_TOKEN = 'notify-me_8f3a9c2e7b1d4f6a0e5c8b2d9f1a3c7e';
let n = 0;

forEachStore('CIBA ping mode', (fixture) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(fixture, { revocationWebhookAllowHttpLocalhost: true, revocationEventsPollMs: 50 });
    await createUser(server, 'ping-user@example.com');
  });
  after(() => server.close());

  async function pingAgent(endpoint: string) {
    const uri = `https://ping-${++n}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, { scopes: ['calc'], audiences: [uri], backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: endpoint }, uri);
    const as = (path: string, params: Record<string, string>) => server.postForm(path, params, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    return { uri, agent, as };
  }

  async function decide(binding: string, decision: 'approve' | 'deny'): Promise<void> {
    const list = (await (await server.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; justification: string }[] };
    const pending = list.approvals.find((a) => a.justification === binding)!;
    const decided = await server.admin('POST', `/approvals/${pending.id}/decision`, { decision, reason: 'checked' });
    assert.equal(decided.status, 200, await decided.clone().text());
  }

  test('CIBA metadata advertises poll and ping', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(metadata['backchannel_token_delivery_modes_supported'], ['poll', 'ping']);
  });

  test('CIBA-05 the ping carries the exact bearer token and body once the request is approved; the agent then polls its token', async (t) => {
    const receiver: HttpReceiver = await httpReceiver();
    t.after(() => receiver.close());
    const { as } = await pingAgent(receiver.url);
    const binding = `ping-approve-${n}`;
    const started = await as('/bc-authorize', { scope: 'openid calc', login_hint: 'ping-user@example.com', binding_message: binding, client_notification_token: NOTIFICATION_TOKEN });
    assert.equal(started.status, 200, await started.clone().text());
    const { auth_req_id } = (await started.json()) as { auth_req_id: string };
    assert.equal(receiver.received.length, 0, 'nothing is sent before the decision');

    await decide(binding, 'approve');
    const ping = await receiver.next(1);
    assert.equal(ping.headers['authorization'], `Bearer ${NOTIFICATION_TOKEN}`);
    assert.match(String(ping.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(ping.body), { auth_req_id });

    const granted = await as('/token', { grant_type: CIBA, auth_req_id });
    assert.equal(granted.status, 200, await granted.clone().text());
    assert.equal(((await granted.json()) as { scope: string }).scope, 'openid calc');
  });

  test('CIBA-05 a denial is pinged too and the poll then says access_denied; a failed ping is retried after its backoff', async (t) => {
    const receiver = await httpReceiver([503]);
    t.after(() => receiver.close());
    const { as } = await pingAgent(receiver.url);
    const binding = `ping-deny-${n}`;
    const { auth_req_id } = (await (await as('/bc-authorize', { scope: 'openid calc', login_hint: 'ping-user@example.com', binding_message: binding, client_notification_token: NOTIFICATION_TOKEN })).json()) as { auth_req_id: string };
    await decide(binding, 'deny');
    assert.deepEqual(JSON.parse((await receiver.next(1)).body), { auth_req_id }, 'the first attempt (answered 503)');
    server.clock.advance(10);
    assert.deepEqual(JSON.parse((await receiver.next(2)).body), { auth_req_id }, 'retried once the backoff passed on the server clock');
    // The approval's delivery log says so (read until the dispatcher has recorded the second attempt).
    for (;;) {
      const list = (await (await server.admin('GET', '/approvals')).json()) as { approvals: { justification: string; ping: { status: string; attempts: number; last_result: string } | null }[] };
      const ping = list.approvals.find((a) => a.justification === binding)!.ping!;
      if (ping.status === 'pending') continue;
      assert.deepEqual([ping.status, ping.attempts, ping.last_result], ['delivered', 2, 'HTTP 200']);
      break;
    }
    const refused = await as('/token', { grant_type: CIBA, auth_req_id });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'access_denied');
  });

  test('a ping agent must send client_notification_token (invalid_request), a bearer token of at most 1024 characters', async () => {
    const { as } = await pingAgent('http://localhost:9/hook');
    const missing = await as('/bc-authorize', { scope: 'openid calc', login_hint: 'ping-user@example.com' });
    assert.equal(missing.status, 400);
    const body = (await missing.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /client_notification_token is required/);
    const malformed = await as('/bc-authorize', { scope: 'openid calc', login_hint: 'ping-user@example.com', client_notification_token: 'has spaces in it' });
    assert.equal(((await malformed.json()) as { error: string }).error, 'invalid_request');
  });

  test('ping needs an endpoint, and the endpoint obeys the webhook URL rule (admin API problem naming the field)', async () => {
    const noEndpoint = await server.admin('POST', '/agents', { name: 'ping without endpoint', backchannel_token_delivery_mode: 'ping' });
    assert.equal(noEndpoint.status, 400);
    assert.match(await noEndpoint.text(), /backchannel_client_notification_endpoint is required with backchannel_token_delivery_mode ping/);
    const remote = await server.admin('POST', '/agents', { name: 'ping over http', backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'http://example.com/hook' });
    assert.equal(remote.status, 400);
    assert.match(await remote.text(), /backchannel_client_notification_endpoint must be an https URL/);
    const created = await server.admin('POST', '/agents', { name: 'ping agent', backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'https://agent.example.com/ciba' });
    assert.equal(created.status, 201, await created.clone().text());
    const agent = (await created.json()) as { client_id: string; backchannel_token_delivery_mode: string; backchannel_client_notification_endpoint: string };
    assert.equal(agent.backchannel_token_delivery_mode, 'ping');
    const back = await server.admin('PATCH', `/agents/${agent.client_id}`, { backchannel_token_delivery_mode: 'poll' });
    assert.equal(back.status, 200, await back.clone().text());
    assert.equal(((await back.json()) as { backchannel_token_delivery_mode: string }).backchannel_token_delivery_mode, 'poll');
  });
});
