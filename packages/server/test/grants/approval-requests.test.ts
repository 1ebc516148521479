import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

/**
 * Approval requests (issue 12 item 2) over real HTTP: a grant whose scope policy is `admin_approval` waits in the
 * queue; approvers decide through the admin API with tokens of their role; the decider is the authenticated
 * principal. Each test registers its own resource and agent.
 */

let counter = 0;

forEachStore('approval requests', (fixture) => {
  let server: TestServer;
  let approverUserId: string;
  let approverToken: string;
  let viewerToken: string;

  /** An admin token of `role` (speaking for `user`), minted by the admin. */
  async function roleToken(role: string, user?: string): Promise<string> {
    const response = await server.admin('POST', '/admin-tokens', { name: `${role} token`, role, ...(user ? { user } : {}) });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { token: string }).token;
  }

  const asRole = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${server.issuer}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    server = await startTestServer(fixture);
    approverUserId = await createUser(server, 'approver@example.com', { roles: ['approver'] });
    approverToken = await roleToken('approver', 'approver@example.com');
    viewerToken = await roleToken('viewer');
  });
  after(() => server.close());

  /** A resource whose `deploy` scope needs approval, and an agent allowed it. */
  async function setUp() {
    const uri = `https://approvals-${++counter}.example.com/mcp`;
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', { name: 'deploy', risk: 'high' }] });
    assert.equal(created.status, 201);
    const id = ((await created.json()) as { id: string }).id;
    assert.equal((await server.admin('PUT', `/resources/${id}/policies/deploy`, { policy: 'admin_approval' })).status, 200);
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'deploy'], audiences: [uri] }, uri);
    const ask = (extra: Record<string, string> = {}) =>
      server.postForm('/token', { grant_type: 'client_credentials', resource: uri, scope: 'calc deploy', ...extra }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    return { uri, agent, ask };
  }

  /** The id of the approval request a refusal names. */
  async function pendingId(response: Response): Promise<string> {
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_scope');
    const match = /approval request (apr_[A-Za-z0-9_-]+) (was created|is pending)/.exec(body.error_description);
    assert.ok(match, body.error_description);
    return match[1]!;
  }

  test('APR-01 a scope needing approval creates one pending request (requester, chain, scopes, justification, expiry); once approved the agent gets exactly that, once', async () => {
    const { uri, agent, ask } = await setUp();
    const id = await pendingId(await ask({ justification: 'release 1.2 to production' }));
    assert.equal(await pendingId(await ask()), id, 'asking again finds the same pending request');

    const pending = (await (await asRole(approverToken, 'GET', `/approvals/${id}`)).json()) as Record<string, unknown>;
    assert.equal(pending['status'], 'pending');
    assert.equal(pending['client_id'], agent.clientId);
    assert.deepEqual(pending['chain'], [agent.clientId]);
    assert.deepEqual(pending['scopes'], ['calc', 'deploy']);
    assert.deepEqual(pending['resources'], [uri]);
    assert.equal(pending['justification'], 'release 1.2 to production');
    assert.equal(pending['risk'], 'high');
    assert.equal(pending['expires_at'], server.clock.now() + 900);

    const decided = await asRole(approverToken, 'POST', `/approvals/${id}/decision`, { decision: 'approve', reason: 'change ticket 42' });
    assert.equal(decided.status, 200, await decided.clone().text());
    const view = (await decided.json()) as Record<string, unknown>;
    assert.deepEqual([view['status'], view['decided_by'], view['reason']], ['approved', approverUserId, 'change ticket 42']);

    const granted = await ask();
    assert.equal(granted.status, 200, await granted.clone().text());
    const token = (await granted.json()) as { access_token: string; scope: string };
    assert.equal(token.scope, 'calc deploy');
    assert.deepEqual(decodeJwt(token.access_token).payload['aud'], uri);
    const again = await pendingId(await ask());
    assert.notEqual(again, id, 'an approval is good for one token: the next request waits for a new one');

    const audit = (await (await server.admin('GET', `/audit?event=approval.approved&client_id=${agent.clientId}`)).json()) as { events: { actor: string; detail: Record<string, unknown> }[] };
    assert.equal(audit.events[0]!.actor, approverUserId);
    assert.equal(audit.events[0]!.detail['reason'], 'change ticket 42');
    assert.equal((await asRole(approverToken, 'POST', `/approvals/${id}/decision`, { decision: 'deny' })).status, 409, 'a decided request cannot be decided again');
  });

  test('APR-02 a forged approver field is ignored: the decision is recorded for the authenticated principal', async () => {
    const { ask } = await setUp();
    const id = await pendingId(await ask());
    const response = await asRole(approverToken, 'POST', `/approvals/${id}/decision`, { decision: 'deny', reason: 'not now', approver: 'usr_ceo', decided_by: 'usr_ceo' });
    assert.equal(response.status, 200);
    const view = (await response.json()) as Record<string, unknown>;
    assert.equal(view['decided_by'], approverUserId);
    assert.equal(view['status'], 'denied');
    // An admin token that speaks for no user decides as itself.
    const id2 = await pendingId(await ask());
    const byAdmin = (await (await server.admin('POST', `/approvals/${id2}/decision`, { decision: 'approve', decided_by: approverUserId })).json()) as Record<string, unknown>;
    assert.match(byAdmin['decided_by'] as string, /^admin:/);
  });

  test('APR-03 roles deny by default: a viewer reads but cannot approve; an approver cannot change policies or anything else', async () => {
    const { uri, ask } = await setUp();
    const id = await pendingId(await ask());
    assert.equal((await asRole(viewerToken, 'GET', '/approvals?status=pending')).status, 200);
    const refused = await asRole(viewerToken, 'POST', `/approvals/${id}/decision`, { decision: 'approve' });
    assert.equal(refused.status, 403);
    assert.match(refused.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal(((await (await asRole(approverToken, 'GET', `/approvals/${id}`)).json()) as { status: string }).status, 'pending', 'the viewer changed nothing');

    const resources = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
    const resourceId = resources.resources.find((r) => r.resource === uri)!.id;
    for (const [method, path, body] of [
      ['PUT', `/resources/${resourceId}/policies/deploy`, { policy: 'auto' }],
      ['GET', `/resources/${resourceId}/policies`, undefined],
      ['GET', '/agents', undefined],
      ['POST', '/admin-tokens', { name: 'escalate', role: 'admin' }],
    ] as const) {
      assert.equal((await asRole(approverToken, method, path, body)).status, 403, `approver ${method} ${path}`);
      assert.equal((await asRole(viewerToken, method, path, body)).status, 403, `viewer ${method} ${path}`);
    }
    const versions = (await (await server.admin('GET', `/resources/${resourceId}/policies/deploy/versions`)).json()) as { versions: unknown[] };
    assert.equal(versions.versions.length, 1, 'the policy is unchanged');
  });

  test('APR-04 an unanswered request expires by the clock: listed as expired, no longer decidable, and asking again opens a new one', async () => {
    const { ask } = await setUp();
    const id = await pendingId(await ask());
    server.clock.advance(901);
    const expired = (await (await asRole(viewerToken, 'GET', '/approvals?status=expired')).json()) as { approvals: { id: string }[] };
    assert.ok(expired.approvals.some((a) => a.id === id));
    const late = await asRole(approverToken, 'POST', `/approvals/${id}/decision`, { decision: 'approve' });
    assert.equal(late.status, 409);
    assert.match(await late.text(), /expired/);
    assert.notEqual(await pendingId(await ask()), id);
  });

  test('APR-05 a critical request needs a fresh sign-in of the deciding user (the passkey registration window)', async () => {
    const uri = `https://approvals-${++counter}.example.com/mcp`;
    assert.equal((await server.admin('POST', '/resources', { resource: uri, scopes: [{ name: 'wire', risk: 'critical' }] })).status, 201);
    const agent = await registerAgentAndResource(server, { scopes: ['wire'], audiences: [uri] }, uri);
    const ask = () => server.postForm('/token', { grant_type: 'client_credentials', resource: uri, scope: 'wire' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const id = await pendingId(await ask());
    assert.equal(((await (await asRole(viewerToken, 'GET', `/approvals/${id}`)).json()) as { risk: string }).risk, 'critical', 'critical scopes default to admin_approval');

    const stale = await asRole(approverToken, 'POST', `/approvals/${id}/decision`, { decision: 'approve' });
    assert.equal(stale.status, 403);
    assert.match(await stale.text(), /needs a fresh sign-in/);
    const noUser = await server.admin('POST', `/approvals/${id}/decision`, { decision: 'approve' });
    assert.equal(noUser.status, 403, 'an admin token that speaks for no user cannot decide a critical request');

    // The approver signs in (password), then decides within the window.
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const login = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: inputValue(page, 'return_to'), email: 'approver@example.com', password: PASSWORD });
    assert.equal(login.status, 303);
    server.clock.advance(60);
    const fresh = await asRole(approverToken, 'POST', `/approvals/${id}/decision`, { decision: 'approve', reason: 'verified by phone' });
    assert.equal(fresh.status, 200, await fresh.clone().text());
    assert.equal((await ask()).status, 200);

    server.clock.advance(300);
    const next = await pendingId(await ask());
    assert.equal((await asRole(approverToken, 'POST', `/approvals/${next}/decision`, { decision: 'approve' })).status, 403, 'the sign-in is no longer fresh');
  });
});
