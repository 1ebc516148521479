import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

/**
 * Who decides an approval request (issue 12 item 2), over real HTTP on both stores: a scope policy may name the user
 * on whose behalf the agent acts as approver (`approver: user`), who then decides on /account (a critical one only
 * after a fresh sign-in); an approver never decides a request of their own; the queue's reads never write (expiry is
 * the timer's, and a CIBA poll judges it per request); concurrent CIBA polls pass the interval and take the tokens
 * exactly once.
 */

const CIBA = 'urn:openid:params:grant-type:ciba';

forEachStore('approvers', (fixture) => {
  let server: TestServer;
  let n = 0;
  const unique = (name: string) => `${name}-${++n}@example.com`;

  before(async () => {
    // The delivery timer (which closes expired requests) stays out of the way: the test shows what reads do alone.
    server = await startTestServer(fixture, { revocationEventsPollMs: 60_000 });
  });
  after(() => server.close());

  async function signedIn(email: string): Promise<Browser> {
    const browser = new Browser();
    const login = await (await browser.fetch(`${server.issuer}/login`)).text();
    const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(login, 'csrf'), return_to: '/account', email, password: PASSWORD });
    assert.equal(response.status, 303);
    return browser;
  }

  async function roleToken(email: string): Promise<(method: string, path: string, body?: unknown) => Promise<Response>> {
    const minted = await server.admin('POST', '/admin-tokens', { name: `approver ${email}`, role: 'approver', user: email });
    const { token } = (await minted.json()) as { token: string };
    return (method, path, body) =>
      fetch(`${server.issuer}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  /** A resource whose `deploy` scope has `policy`, and an agent (owned by `owner`) allowed it. */
  async function setUp(policy: Record<string, unknown>, risk = 'high', owner?: string) {
    const uri = `https://approvers-${++n}.example.com/mcp`;
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', { name: 'deploy', risk }] });
    assert.equal(created.status, 201);
    const id = ((await created.json()) as { id: string }).id;
    const set = await server.admin('PUT', `/resources/${id}/policies/deploy`, policy);
    assert.equal(set.status, 200, await set.clone().text());
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'deploy'], audiences: [uri], ...(owner ? { owner } : {}) }, uri);
    const poll = (authReqId: string) => server.postForm('/token', { grant_type: CIBA, auth_req_id: authReqId }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    /** A CIBA request for `email`; its auth_req_id and approval request id. */
    async function ask(email: string, extra: Record<string, string> = {}): Promise<{ authReqId: string; approvalId: string }> {
      const binding = `approvers-${++n}`;
      const asked = await server.postForm('/bc-authorize', { scope: 'openid deploy', resource: uri, login_hint: email, binding_message: binding, ...extra }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      assert.equal(asked.status, 200, await asked.clone().text());
      const list = (await (await server.admin('GET', '/approvals')).json()) as { approvals: { id: string; justification: string }[] };
      return { authReqId: ((await asked.json()) as { auth_req_id: string }).auth_req_id, approvalId: list.approvals.find((a) => a.justification === binding)!.id };
    }
    return { id, uri, agent, ask, poll, set: (await set.json()) as Record<string, unknown> };
  }

  const decideOnAccount = async (browser: Browser, approvalId: string, decision = 'approve') => {
    const csrf = inputValue(await (await browser.fetch(`${server.issuer}/account`)).text(), 'csrf');
    return browser.postForm(`${server.issuer}/account/approvals/${approvalId}/decision`, { csrf, decision });
  };

  test('POL-08 approver: user — the user the agent acts for approves on /account and the agent’s poll gets the token; without it, the user cannot', async () => {
    const email = unique('self');
    await createUser(server, email);
    const browser = await signedIn(email);

    const named = await setUp({ policy: 'admin_approval', approver: 'user' });
    assert.equal(named.set['approver'], 'user');
    const mine = await named.ask(email);
    const account = await (await browser.fetch(`${server.issuer}/account`)).text();
    assert.match(account, new RegExp(`/account/approvals/${mine.approvalId}/decision`), 'the request is offered for decision');
    const approved = await decideOnAccount(browser, mine.approvalId);
    assert.equal(approved.status, 303);
    const view = (await (await server.admin('GET', `/approvals/${mine.approvalId}`)).json()) as { status: string; decided_by: string };
    assert.equal(view.status, 'approved');
    const granted = await named.poll(mine.authReqId);
    assert.equal(granted.status, 200, await granted.clone().text());

    const approversOnly = await setUp({ policy: 'admin_approval' });
    assert.equal(approversOnly.set['approver'], 'approvers', 'the default, shown');
    const theirs = await approversOnly.ask(email);
    const refused = await decideOnAccount(browser, theirs.approvalId);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /scope deploy needs an approver \(policy admin_approval/);
    assert.equal(((await (await server.admin('GET', `/approvals/${theirs.approvalId}`)).json()) as { status: string }).status, 'pending');

    const misplaced = await server.admin('PUT', `/resources/${approversOnly.id}/policies/deploy`, { policy: 'user_consent', approver: 'user' });
    assert.equal(misplaced.status, 400, 'only admin_approval takes an approver');
    assert.match(await misplaced.text(), /only admin_approval takes an approver/);
  });

  test('POL-08 the console edits who approves: an admin sets approver user on the policy form, and it shows', async () => {
    const admin = unique('console-admin');
    await createUser(server, admin, { is_admin: true });
    const setup = await setUp({ policy: 'admin_approval' });
    const browser = new Browser();
    const login = await (await browser.fetch(`${server.issuer}/login`)).text();
    assert.equal((await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(login, 'csrf'), return_to: '/admin', email: admin, password: PASSWORD })).status, 303);
    const pageOf = async () => (await browser.fetch(`${server.issuer}/admin/resources/${setup.id}`)).text();
    const before = await pageOf();
    assert.match(before, /name="approver"/);
    const saved = await browser.postForm(`${server.issuer}/admin/resources/${setup.id}/policies/deploy`, { csrf: inputValue(before, 'csrf'), policy: 'admin_approval', approver: 'user', risk: 'high' });
    assert.equal(saved.status, 303, await saved.clone().text());
    const policies = (await (await server.admin('GET', `/resources/${setup.id}/policies`)).json()) as { policies: { scope: string; approver?: string }[] };
    assert.equal(policies.policies.find((p) => p.scope === 'deploy')!.approver, 'user');
    assert.match(await pageOf(), /the user may decide/);
  });

  test('POL-08 a critical request the policy leaves to the user still needs the user’s fresh sign-in', async () => {
    const email = unique('critical');
    await createUser(server, email);
    const stale = await signedIn(email);
    const critical = await setUp({ policy: 'admin_approval', approver: 'user' }, 'critical');
    const { approvalId } = await critical.ask(email, { requested_expiry: '900' });
    server.clock.advance(301);
    const refused = await decideOnAccount(stale, approvalId);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /needs a fresh sign-in/);
    const fresh = await signedIn(email);
    assert.equal((await decideOnAccount(fresh, approvalId)).status, 303);
  });

  test('POL-09 an approver cannot decide a request made on their behalf, nor one of an agent they own; another approver can', async () => {
    const approver = unique('approver');
    await createUser(server, approver, { roles: ['approver'] });
    const other = unique('other-approver');
    await createUser(server, other, { roles: ['approver'] });
    const user = unique('user');
    await createUser(server, user);
    const asApprover = await roleToken(approver);
    const asOther = await roleToken(other);

    const plain = await setUp({ policy: 'admin_approval' });
    const forSelf = await plain.ask(approver);
    const refused = await asApprover('POST', `/approvals/${forSelf.approvalId}/decision`, { decision: 'approve' });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /made on your behalf/);

    const owned = await setUp({ policy: 'admin_approval' }, 'high', approver);
    const byOwnAgent = await owned.ask(user);
    const alsoRefused = await asApprover('POST', `/approvals/${byOwnAgent.approvalId}/decision`, { decision: 'approve' });
    assert.equal(alsoRefused.status, 403);
    assert.match(await alsoRefused.text(), /which you own/);

    for (const { approvalId } of [forSelf, byOwnAgent]) {
      assert.equal(((await (await server.admin('GET', `/approvals/${approvalId}`)).json()) as { status: string }).status, 'pending', 'the refusals changed nothing');
      assert.equal((await asOther('POST', `/approvals/${approvalId}/decision`, { decision: 'approve' })).status, 200);
    }
  });

  test('the queue’s reads never write: an expired request lists as expired while its row waits for the timer; a CIBA poll judges it per request', async () => {
    const email = unique('expiry');
    await createUser(server, email);
    const setup = await setUp({ policy: 'admin_approval' });
    const { authReqId, approvalId } = await setup.ask(email, { requested_expiry: '60' });
    server.clock.advance(61);
    const listed = async (status: string) => ((await (await server.admin('GET', `/approvals?status=${status}`)).json()) as { approvals: { id: string; status: string }[] }).approvals.find((a) => a.id === approvalId);
    assert.equal(await listed('pending'), undefined);
    assert.equal((await listed('expired'))?.status, 'expired');
    assert.equal((await server.admin('GET', '/approvals')).status, 200);
    assert.equal((await fixture.store.getApprovalRequest(approvalId))!.status, 'pending', 'no read marked it');
    const polled = await setup.poll(authReqId);
    assert.equal(((await polled.json()) as { error: string }).error, 'expired_token');

    assert.ok((await fixture.store.expireApprovalRequests(server.clock.now())) >= 1);
    assert.equal((await fixture.store.getApprovalRequest(approvalId))!.status, 'expired', 'the timer’s pass closes it');
    assert.equal((await listed('expired'))?.status, 'expired');
    assert.equal(await fixture.store.expireApprovalRequests(server.clock.now()), 0, 'once');
  });

  test('CIBA-02 concurrent polls: one passes the interval, the others slow_down; once approved, one poll gets the tokens and the others invalid_grant', async () => {
    const email = unique('racer');
    await createUser(server, email);
    const approver = unique('race-approver');
    await createUser(server, approver, { roles: ['approver'] });
    const asApprover = await roleToken(approver);
    const setup = await setUp({ policy: 'admin_approval' });
    const { authReqId, approvalId } = await setup.ask(email);
    const errors = async () => Promise.all(Array.from({ length: 8 }, () => setup.poll(authReqId).then(async (r) => (r.status === 200 ? 'token' : ((await r.json()) as { error: string }).error))));
    const first = await errors();
    assert.deepEqual(first.sort(), ['authorization_pending', ...Array(7).fill('slow_down')]);
    assert.equal((await asApprover('POST', `/approvals/${approvalId}/decision`, { decision: 'approve' })).status, 200);
    server.clock.advance(45);
    const second = await errors();
    assert.deepEqual(second.sort(), [...Array(7).fill('invalid_grant'), 'token']);
  });
});
