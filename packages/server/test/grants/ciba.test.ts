import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { createUser } from '../helpers/user-flow.ts';

/**
 * OpenID CIBA Core 1.0 poll mode (issue 12 item 3) over real HTTP: a backchannel authentication request joins the
 * approval queue; an approver decides through the admin API; the client's polls get exactly the §11 errors, then
 * the token. The server's clock is the test's, so poll intervals pass without sleeping.
 */

const CIBA = 'urn:openid:params:grant-type:ciba';
let counter = 0;

forEachStore('CIBA', (fixture) => {
  let server: TestServer;
  let approverToken: string;
  let userId: string;

  const asApprover = (method: string, path: string, body?: unknown) =>
    fetch(`${server.issuer}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${approverToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    server = await startTestServer(fixture);
    userId = await createUser(server, 'ciba-user@example.com');
    await createUser(server, 'ciba-approver@example.com', { roles: ['approver'] });
    const minted = await server.admin('POST', '/admin-tokens', { name: 'approver', role: 'approver', user: 'ciba-approver@example.com' });
    approverToken = ((await minted.json()) as { token: string }).token;
  });
  after(() => server.close());

  async function setUp() {
    const uri = `https://ciba-${++counter}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'files:read'], audiences: [uri] }, uri);
    const as = (path: string, params: Record<string, string>, who = agent) => server.postForm(path, params, { authorization: basicAuth(who.clientId, who.clientSecret) });
    const ask = (params: Record<string, string> = {}) =>
      as('/bc-authorize', { scope: 'openid calc', resource: uri, login_hint: 'ciba-user@example.com', binding_message: 'Calc for invoice 7', ...params });
    const poll = (authReqId: string, who = agent) => as('/token', { grant_type: CIBA, auth_req_id: authReqId }, who);
    return { uri, agent, ask, poll, as };
  }

  const errorOf = async (response: Response) => {
    assert.equal(response.status, 400, `expected 400, got ${response.status}`);
    return ((await response.json()) as { error: string }).error;
  };

  async function approvalFor(binding: string): Promise<{ id: string; user_id: string; justification: string; scopes: string[] }> {
    const list = (await (await asApprover('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; user_id: string; justification: string; scopes: string[] }[] };
    return list.approvals.find((a) => a.justification === binding)!;
  }

  test('CIBA metadata: the backchannel endpoint, poll mode, no user_code; the grant type', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(metadata['backchannel_authentication_endpoint'], `${server.issuer}/bc-authorize`);
    assert.deepEqual(metadata['backchannel_token_delivery_modes_supported'], ['poll']);
    assert.equal(metadata['backchannel_user_code_parameter_supported'], false);
    assert.ok((metadata['grant_types_supported'] as string[]).includes(CIBA));
  });

  test('CIBA-01 zero or two hints → invalid_request; no openid → invalid_scope; an unknown user → unknown_user_id; a long binding_message → invalid_binding_message', async () => {
    const { ask, as } = await setUp();
    assert.equal(await errorOf(await as('/bc-authorize', { scope: 'openid calc' })), 'invalid_request');
    assert.equal(await errorOf(await ask({ id_token_hint: 'eyJ...' })), 'invalid_request');
    assert.equal(await errorOf(await ask({ scope: 'calc' })), 'invalid_scope');
    assert.equal(await errorOf(await ask({ login_hint: 'nobody@example.com' })), 'unknown_user_id');
    assert.equal(await errorOf(await ask({ binding_message: 'x'.repeat(101) })), 'invalid_binding_message');
    const unauthenticated = await server.postForm('/bc-authorize', { scope: 'openid calc', login_hint: 'ciba-user@example.com' });
    assert.equal(unauthenticated.status, 401);
  });

  test('CIBA-02 CIBA-03 pending → authorization_pending, too fast → slow_down; an approver approves and the waiting poll gets the user’s token, once', async () => {
    const { uri, agent, ask, poll } = await setUp();
    const started = await ask({ binding_message: `approve-${counter}` });
    assert.equal(started.status, 200, await started.clone().text());
    const { auth_req_id, expires_in, interval } = (await started.json()) as { auth_req_id: string; expires_in: number; interval: number };
    assert.match(auth_req_id, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual([expires_in, interval], [300, 5]);

    assert.equal(await errorOf(await poll(auth_req_id)), 'authorization_pending');
    assert.equal(await errorOf(await poll(auth_req_id)), 'slow_down', 'polled again within the interval');
    server.clock.advance(10);
    assert.equal(await errorOf(await poll(auth_req_id)), 'authorization_pending', 'after the (grown) interval');

    const pending = await approvalFor(`approve-${counter}`);
    assert.equal(pending.user_id, userId);
    assert.deepEqual(pending.scopes, ['openid', 'calc']);
    const decided = await asApprover('POST', `/approvals/${pending.id}/decision`, { decision: 'approve', reason: 'the user asked on the phone' });
    assert.equal(decided.status, 200, await decided.clone().text());

    server.clock.advance(10);
    const granted = await poll(auth_req_id);
    assert.equal(granted.status, 200, await granted.clone().text());
    const tokens = (await granted.json()) as { access_token: string; id_token: string; scope: string; token_type: string };
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.scope, 'openid calc');
    const claims = decodeJwt(tokens.access_token).payload;
    assert.equal(claims['sub'], userId);
    assert.equal(claims['client_id'], agent.clientId);
    assert.deepEqual(claims['aud'], [uri, `${server.issuer}/userinfo`], 'the resource, and userinfo for openid');
    assert.equal(decodeJwt(tokens.id_token).payload['sub'], userId);
    assert.equal(await errorOf(await poll(auth_req_id)), 'invalid_grant', 'an auth_req_id yields its tokens once');
  });

  test('CIBA an approval does not outlive a disable: the user disabled and enabled again before the poll → invalid_grant, no token', async () => {
    const { ask, poll } = await setUp();
    const email = `ciba-revive-${counter}@example.com`;
    const revivedId = await createUser(server, email);
    const started = (await (await ask({ login_hint: email, binding_message: `revive-${counter}` })).json()) as { auth_req_id: string };
    const pending = await approvalFor(`revive-${counter}`);
    assert.equal((await asApprover('POST', `/approvals/${pending.id}/decision`, { decision: 'approve' })).status, 200);
    server.clock.advance(2);
    assert.equal((await server.admin('POST', `/users/${revivedId}/disable`)).status, 200);
    server.clock.advance(2);
    assert.equal((await server.admin('POST', `/users/${revivedId}/enable`)).status, 200);
    server.clock.advance(10);
    const refused = await poll(started.auth_req_id);
    assert.equal(refused.status, 400);
    const error = (await refused.json()) as { error: string; error_description: string };
    assert.equal(error.error, 'invalid_grant');
    assert.match(error.error_description, /approval no longer stands: the user was disabled \(or reset\) after it was issued/);
  });

  test('CIBA-03 a denial reaches the agent as access_denied; an unanswered request as expired_token', async () => {
    const { ask, poll } = await setUp();
    const denied = (await (await ask({ binding_message: `deny-${counter}` })).json()) as { auth_req_id: string };
    const pending = await approvalFor(`deny-${counter}`);
    assert.equal((await asApprover('POST', `/approvals/${pending.id}/decision`, { decision: 'deny', reason: 'not expected' })).status, 200);
    const refusal = await poll(denied.auth_req_id);
    assert.equal(refusal.status, 400);
    const body = (await refusal.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'access_denied');
    assert.match(body.error_description, /not expected/);

    const waiting = (await (await ask({ binding_message: `expire-${counter}`, requested_expiry: '60' })).json()) as { auth_req_id: string; expires_in: number };
    assert.equal(waiting.expires_in, 60);
    server.clock.advance(61);
    assert.equal(await errorOf(await poll(waiting.auth_req_id)), 'expired_token');
  });

  test('CIBA-04 another client’s auth_req_id → invalid_grant', async () => {
    const { ask, poll } = await setUp();
    const other = await registerAgentAndResource(server, { scopes: ['calc'] }, `https://ciba-${counter}.example.com/mcp`);
    const started = (await (await ask({ binding_message: `steal-${counter}` })).json()) as { auth_req_id: string };
    assert.equal(await errorOf(await poll(started.auth_req_id, other)), 'invalid_grant');
    assert.equal(await errorOf(await poll('not-an-id')), 'invalid_grant');
  });
});
