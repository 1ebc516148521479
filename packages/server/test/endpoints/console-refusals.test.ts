import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { type Browser, createUser, inputValue, signedInBrowser } from '../helpers/user-flow.ts';

/**
 * Refusals of the admin console over real HTTP that its first review found missing: the live approval stream ends
 * when its viewer loses the session or the role; a critical approval needs the deciding session's own fresh
 * sign-in (not the user's newest session elsewhere); an admin cannot demote or disable themselves by email;
 * /account lists a user's requests however many other users' requests are newer; and only an admin runs the audit
 * chain check.
 */
forEachStore('admin console refusals over HTTP', (fixture) => {
  let server: TestServer;
  let n = 0;
  const unique = (name: string) => `${name}-${++n}@example.com`;

  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  const signedIn = (email: string) => signedInBrowser(server, email);

  /** An agent allowed `calc` and a critical `deploy` on a fresh resource; `ask` files a CIBA request (an approval). */
  async function agentWithCriticalScope() {
    const uri = `https://refusals-${++n}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'deploy'], audiences: [uri] }, uri);
    const resources = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
    const id = resources.resources.find((r) => r.resource === uri)!.id;
    assert.equal((await server.admin('PATCH', `/resources/${id}`, { scopes: ['calc', { name: 'deploy', risk: 'critical' }] })).status, 200);
    return async (scope: string, who: string, binding: string): Promise<string> => {
      const asked = await server.postForm('/bc-authorize', { scope: `openid ${scope}`, resource: uri, login_hint: who, binding_message: binding }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
      assert.equal(asked.status, 200);
      const pending = (await (await server.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; justification: string }[] };
      return pending.approvals.find((a) => a.justification === binding)!.id;
    };
  }

  /**
   * Opens the stream, reads its first `pending` event, lets `loseAccess` run, files a new request, and reads the
   * stream until the server closes it (no timer: the stream's end is the signal). Returns what came after the first event.
   */
  async function streamAcrossLoss(browser: Browser, loseAccess: () => Promise<void>, ask: () => Promise<string>, marker: string): Promise<string> {
    const response = await browser.fetch(`${server.issuer}/admin/approvals/events`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!/event: pending\ndata: .*\n\n/.test(text)) {
      const chunk = await reader.read();
      assert.equal(chunk.done, false, 'the stream sends the queue first');
      text += decoder.decode(chunk.value, { stream: true });
    }
    const first = text.length;
    await loseAccess();
    await ask();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      // Delivered after all: stop reading (the assertion fails) rather than wait on a stream that never ends.
      if (text.slice(first).includes(marker)) {
        await reader.cancel();
        break;
      }
    }
    return text.slice(first);
  }

  test('the approval stream ends, delivering nothing new, when its admin is disabled', async () => {
    const ask = await agentWithCriticalScope();
    const user = unique('user');
    await createUser(server, user);
    const email = unique('admin');
    const adminId = await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const after = await streamAcrossLoss(
      admin,
      async () => assert.equal((await server.admin('POST', `/users/${adminId}/disable`)).status, 200),
      () => ask('calc', user, 'after-disable'),
      'after-disable',
    );
    assert.doesNotMatch(after, /after-disable/, 'the request filed after the disable never reaches the stream');
    assert.equal((await admin.fetch(`${server.issuer}/admin/approvals/events`)).status, 302, 'a reconnect is sent to the login page');
  });

  test('the approval stream ends, delivering nothing new, when its user loses the console role', async () => {
    const ask = await agentWithCriticalScope();
    const user = unique('user');
    await createUser(server, user);
    const email = unique('admin');
    const adminId = await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const after = await streamAcrossLoss(
      admin,
      async () => assert.equal((await server.admin('PATCH', `/users/${adminId}`, { is_admin: false })).status, 200),
      () => ask('calc', user, 'after-demotion'),
      'after-demotion',
    );
    assert.doesNotMatch(after, /after-demotion/, 'the request filed after the demotion never reaches the stream');
    assert.equal((await admin.fetch(`${server.issuer}/admin/approvals/events`)).status, 403, 'a reconnect is refused');
  });

  test('an admin cannot remove their own admin role or disable themselves by naming their email', async () => {
    const email = unique('admin');
    const adminId = await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const csrf = inputValue(await (await admin.fetch(`${server.issuer}/admin/users`)).text(), 'csrf');
    const byEmail = encodeURIComponent(email.toUpperCase());
    const demotion = await admin.postForm(`${server.issuer}/admin/users/${byEmail}/roles`, { csrf, roles: '' });
    assert.equal(demotion.status, 403);
    assert.match(await demotion.text(), /you cannot remove your own admin role/);
    const disable = await admin.postForm(`${server.issuer}/admin/users/${byEmail}/disable`, { csrf, confirmed: 'yes' });
    assert.equal(disable.status, 403);
    assert.match(await disable.text(), /you cannot disable your own account/);
    const after = (await (await server.admin('GET', `/users/${adminId}`)).json()) as { is_admin: boolean; status: string };
    assert.deepEqual([after.is_admin, after.status], [true, 'active']);
    assert.equal((await admin.fetch(`${server.issuer}/admin/users`)).status, 200, 'still signed in');
  });

  test('the audit chain check is an admin’s POST: a viewer neither runs it (verify=1 does nothing) nor may post it', async () => {
    const viewerEmail = unique('viewer');
    await createUser(server, viewerEmail, { roles: ['viewer'] });
    const viewer = await signedIn(viewerEmail);
    const read = await viewer.fetch(`${server.issuer}/admin/audit?verify=1`);
    assert.equal(read.status, 200, 'a viewer reads the log');
    const body = await read.text();
    assert.doesNotMatch(body, /chain intact|chain broken/, 'a GET runs no check');
    assert.doesNotMatch(body, /Verify the chain/, 'no button for a viewer');
    const refused = await viewer.postForm(`${server.issuer}/admin/audit/verify`, { csrf: inputValue(body, 'csrf') });
    assert.equal(refused.status, 403);
    assert.doesNotMatch(await refused.text(), /chain intact/);

    const adminEmail = unique('admin');
    await createUser(server, adminEmail, { is_admin: true });
    const admin = await signedIn(adminEmail);
    const page = await (await admin.fetch(`${server.issuer}/admin/audit?event=user.*`)).text();
    assert.match(page, /Verify the chain/);
    const checked = await admin.postForm(`${server.issuer}/admin/audit/verify`, { csrf: inputValue(page, 'csrf'), event: 'user.*' });
    assert.equal(checked.status, 200);
    const result = await checked.text();
    assert.match(result, /chain intact/);
    assert.match(result, /user\.created/, 'the filter is kept');
  });

  test('a user’s own requests on /account are read by user: 500 newer requests of other users do not hide them', async () => {
    const ask = await agentWithCriticalScope();
    const email = unique('owner');
    await createUser(server, email);
    const otherId = await createUser(server, unique('busy'));
    const mine = await ask('calc', email, 'mine-under-500');
    const clientOf = ((await (await server.admin('GET', `/approvals/${mine}`)).json()) as { client_id: string }).client_id;
    const now = server.clock.now();
    for (let i = 0; i < 500; i++) {
      await server.store.createApprovalRequest({
        id: `apr_busy_${n}_${i}`,
        status: 'denied',
        clientId: clientOf,
        chain: [clientOf],
        userId: otherId,
        scopes: ['calc'],
        resources: [],
        justification: 'someone else',
        risk: 'low',
        requestKey: `busy-${n}-${i}`,
        createdAt: now + 1,
        expiresAt: now + 600,
        decidedBy: 'test',
        decidedAt: now + 1,
        reason: null,
        usedAt: null,
        authReqHash: null,
        pollInterval: null,
        lastPolledAt: null,
      });
    }
    const account = await (await (await signedIn(email)).fetch(`${server.issuer}/account`)).text();
    assert.match(account, /mine-under-500/, 'the user’s pending request is listed');
    assert.doesNotMatch(account, /someone else/, 'never another user’s');
  });

  // Moves the shared clock: the last test of this server.
  test('a critical request needs the deciding session’s own fresh sign-in: an older session stays stale after a new one elsewhere', async () => {
    const approverEmail = unique('approver');
    await createUser(server, approverEmail, { roles: ['approver'] });
    const stale = await signedIn(approverEmail);
    server.clock.advance(server.config.users.passkeyRegistrationMaxAuthAgeSeconds + 1);
    const fresh = await signedIn(approverEmail);
    const ask = await agentWithCriticalScope();
    const user = unique('user');
    await createUser(server, user);
    const id = await ask('deploy', user, 'critical-deploy');

    const staleCsrf = inputValue(await (await stale.fetch(`${server.issuer}/admin/approvals`)).text(), 'csrf');
    const refused = await stale.postForm(`${server.issuer}/admin/approvals/${id}/decision`, { csrf: staleCsrf, decision: 'approve' });
    assert.equal(refused.status, 403, 'the older session is not made fresh by the newer one');
    assert.match(await refused.text(), /a critical request needs a fresh sign-in/);
    const stillPending = (await (await server.admin('GET', `/approvals/${id}`)).json()) as { status: string };
    assert.equal(stillPending.status, 'pending');

    const freshCsrf = inputValue(await (await fresh.fetch(`${server.issuer}/admin/approvals`)).text(), 'csrf');
    const approved = await fresh.postForm(`${server.issuer}/admin/approvals/${id}/decision`, { csrf: freshCsrf, decision: 'approve' });
    assert.equal(approved.status, 303, 'the freshly signed-in session decides');
    assert.equal(((await (await server.admin('GET', `/approvals/${id}`)).json()) as { status: string }).status, 'approved');
  });
  // Moves the shared clock too: after the critical-request test.
  test('the approval stream ends after 10 minutes, and neither it nor its reconnect keeps the session from its idle timeout', async () => {
    const email = unique('admin');
    await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const firstEvent = async (): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
      const response = await admin.fetch(`${server.issuer}/admin/approvals/events`);
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      let text = '';
      while (!/event: pending\ndata: .*\n\n/.test(text)) {
        const chunk = await reader.read();
        assert.equal(chunk.done, false);
        text += new TextDecoder().decode(chunk.value);
      }
      return reader;
    };
    const stream = await firstEvent();
    server.clock.advance(601);
    while (!(await stream.read()).done);
    const reconnected = await firstEvent();
    await reconnected.cancel();
    server.clock.advance(server.config.users.sessionIdleTimeoutSeconds - 600);
    assert.equal((await admin.fetch(`${server.issuer}/admin`)).status, 302, 'idle since the sign-in: the streams did not count as use');
  });
});
