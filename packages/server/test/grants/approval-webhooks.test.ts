import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApprovalEvent, verifyApprovalWebhook } from '@mandate/sdk/admin';
import { httpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { createUser } from '../helpers/user-flow.ts';

/**
 * Approval webhooks (issue 12 item 5) over real HTTP on both stores: an operator adds a webhook (its secret shown
 * once); every approval event (created, approved, denied, expired) reaches a real receiver, POSTed and signed with
 * HMAC-SHA256, which the SDK verifies; a failing receiver is retried after a backoff on the server's frozen clock;
 * the admin API shows the delivery log. Expiry happens on the delivery timer, so an unanswered request is closed and
 * announced without anyone reading the queue. Tests wait for the receiver's requests and the log's rows, never for time.
 */

type Delivery = { event_id: string; approval_id: string; event: string; status: string; attempts: number; next_attempt_at: number; last_result: string | null };

forEachStore('approval webhooks', (fixture) => {
  let server: TestServer;
  let n = 0;
  let approverToken: string;
  let agent: { clientId: string; clientSecret: string };
  const uri = 'https://approval-hooks.example.com/mcp';

  before(async () => {
    server = await startTestServer(fixture, { revocationWebhookAllowHttpLocalhost: true, revocationEventsPollMs: 100 });
    agent = await registerAgentAndResource(server, { scopes: ['calc'], audiences: [uri] }, uri);
    await createUser(server, 'hook-user@example.com');
    await createUser(server, 'hook-approver@example.com', { roles: ['approver'] });
    approverToken = ((await (await server.admin('POST', '/admin-tokens', { name: 'approver', role: 'approver', user: 'hook-approver@example.com' })).json()) as { token: string }).token;
  });
  after(() => server.close());

  const asApprover = (method: string, path: string, body?: unknown) =>
    fetch(`${server.issuer}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${approverToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  /** A CIBA request for the user; resolves to its approval request id. */
  async function ask(extra: Record<string, string> = {}): Promise<string> {
    const binding = `hook-${++n}`;
    const asked = await server.postForm('/bc-authorize', { scope: 'openid calc', resource: uri, login_hint: 'hook-user@example.com', binding_message: binding, ...extra }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(asked.status, 200, await asked.clone().text());
    const list = (await (await server.admin('GET', '/approvals')).json()) as { approvals: { id: string; justification: string }[] };
    return list.approvals.find((a) => a.justification === binding)!.id;
  }

  async function addWebhook(hook: HttpReceiver): Promise<{ id: string; secret: string }> {
    const created = await server.admin('POST', '/approval-webhooks', { url: hook.url });
    assert.equal(created.status, 201, await created.clone().text());
    return (await created.json()) as { id: string; secret: string };
  }

  /** The next delivery of `type` about `approvalId`, verified with the webhook's secret. */
  async function eventFor(hook: HttpReceiver, secret: string, approvalId: string, type: string): Promise<{ event: ApprovalEvent; headers: Record<string, unknown>; body: string }> {
    for (let i = 1; ; i++) {
      const delivery = await hook.next(i);
      const event = verifyApprovalWebhook(delivery.body, delivery.headers['mandate-signature'] as string, { secret, clock: server.clock.nowMs });
      if (event.approval.id === approvalId && event.type === type) return { event, headers: delivery.headers, body: delivery.body };
    }
  }

  async function logUntil(id: string, match: (log: Delivery[]) => boolean): Promise<Delivery[]> {
    for (;;) {
      const log = ((await (await server.admin('GET', `/approval-webhooks/${id}`)).json()) as { deliveries: Delivery[] }).deliveries;
      if (match(log)) return log;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  test('every approval event reaches the webhook, signed; the SDK verifies it and refuses a forgery; the log shows each delivery', { timeout: 60_000 }, async () => {
    const hook = await httpReceiver();
    const { id, secret } = await addWebhook(hook);
    try {
      const approved = await ask();
      const created = await eventFor(hook, secret, approved, 'approval.created');
      assert.equal(created.event.id, `${approved}.created`);
      assert.equal(created.headers['mandate-event-id'], created.event.id);
      assert.equal(created.event.approval.client_id, agent.clientId);
      assert.deepEqual(created.event.approval.scopes, ['openid', 'calc']);
      const signature = created.headers['mandate-signature'] as string;
      const clock = server.clock.nowMs;
      assert.throws(() => verifyApprovalWebhook(created.body.replace('calc', 'exec'), signature, { secret, clock }), { code: 'ERR_APPROVAL_WEBHOOK_INVALID' });
      assert.throws(() => verifyApprovalWebhook(created.body, signature, { secret: `${secret}x`, clock }), { code: 'ERR_APPROVAL_WEBHOOK_INVALID' });
      assert.throws(() => verifyApprovalWebhook(created.body, signature, { secret, clock: () => clock() + 3_600_000 }), { code: 'ERR_APPROVAL_WEBHOOK_INVALID' }, 'a replay an hour later');

      assert.equal((await asApprover('POST', `/approvals/${approved}/decision`, { decision: 'approve', reason: 'on the phone' })).status, 200);
      const decided = await eventFor(hook, secret, approved, 'approval.approved');
      assert.equal(decided.event.approval.status, 'approved');
      assert.equal(decided.event.approval.reason, 'on the phone');
      assert.equal(decided.event.occurred_at, decided.event.approval.decided_at);

      const denied = await ask();
      assert.equal((await asApprover('POST', `/approvals/${denied}/decision`, { decision: 'deny' })).status, 200);
      assert.equal((await eventFor(hook, secret, denied, 'approval.denied')).event.approval.status, 'denied');

      // Nobody reads the queue: the delivery timer closes the request and announces it.
      const unanswered = await ask({ requested_expiry: '60' });
      await eventFor(hook, secret, unanswered, 'approval.created');
      server.clock.advance(61);
      const expired = await eventFor(hook, secret, unanswered, 'approval.expired');
      assert.equal(expired.event.approval.status, 'expired');
      assert.equal((await fixture.store.getApprovalRequest(unanswered))!.status, 'expired', 'marked in the store by the timer');

      const log = await logUntil(id, (l) => l.filter((d) => d.status === 'delivered').length >= 6);
      assert.deepEqual(
        log.filter((d) => [approved, denied, unanswered].includes(d.approval_id)).map((d) => `${d.approval_id === approved ? 'A' : d.approval_id === denied ? 'D' : 'U'}.${d.event}:${d.status}:${d.last_result}`).sort(),
        ['A.approved:delivered:HTTP 200', 'A.created:delivered:HTTP 200', 'D.created:delivered:HTTP 200', 'D.denied:delivered:HTTP 200', 'U.created:delivered:HTTP 200', 'U.expired:delivered:HTTP 200'],
      );
      // The secret is never shown again, is stored encrypted, and the audit trail does not hold it.
      assert.equal((await (await server.admin('GET', `/approval-webhooks/${id}`)).text()).includes(secret), false);
      assert.equal((await (await server.admin('GET', '/approval-webhooks')).text()).includes(secret), false);
      const stored = await fixture.store.getApprovalWebhook(id);
      assert.match(stored!.secretEncrypted, /^v1\./);
      assert.equal(stored!.secretEncrypted.includes(secret), false);
      assert.equal((await (await server.admin('GET', '/audit?event=approval_webhook.created&limit=50')).text()).includes(secret), false);
    } finally {
      await server.admin('DELETE', `/approval-webhooks/${id}`);
      await hook.close();
    }
  });

  test('a failing receiver is retried after the backoff on the server’s clock; the delivery log shows each attempt', { timeout: 60_000 }, async () => {
    const hook = await httpReceiver([500]);
    const { id, secret } = await addWebhook(hook);
    try {
      const approval = await ask();
      const first = await hook.next(1);
      assert.equal(verifyApprovalWebhook(first.body, first.headers['mandate-signature'] as string, { secret, clock: server.clock.nowMs }).approval.id, approval);
      const [failed] = await logUntil(id, (l) => l[0]?.attempts === 1);
      assert.equal(failed!.status, 'pending');
      assert.equal(failed!.last_result, 'HTTP 500');
      assert.equal(failed!.next_attempt_at, server.clock.now() + 10, 'retried after 10 s, then doubling');
      assert.equal(hook.received.length, 1, 'not retried before its time');
      server.clock.advance(10);
      const second = await hook.next(2);
      assert.equal(second.body, first.body, 'the same event');
      const [delivered] = await logUntil(id, (l) => l[0]?.status === 'delivered');
      assert.equal(delivered!.attempts, 2);
      assert.equal(delivered!.last_result, 'HTTP 200');
      assert.equal((await server.admin('DELETE', `/approval-webhooks/${id}`)).status, 204);
      assert.equal((await server.admin('GET', `/approval-webhooks/${id}`)).status, 404);
    } finally {
      await hook.close();
    }
  });

  test('webhook URLs follow the revocation webhooks’ rule; only admins manage webhooks', { timeout: 60_000 }, async () => {
    for (const url of ['http://example.com/hook', 'ftp://example.com/hook', 'https://user:pw@example.com/hook', 'not a url']) {
      const response = await server.admin('POST', '/approval-webhooks', { url });
      assert.equal(response.status, 400, url);
      assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
    }
    assert.equal((await server.admin('POST', '/approval-webhooks', { url: 'https://a.example/', events: ['created'] })).status, 400, 'unknown members');
    assert.equal((await server.admin('GET', '/approval-webhooks/awh_nothing')).status, 404);
    assert.equal((await asApprover('GET', '/approval-webhooks')).status, 403);
    assert.equal((await asApprover('POST', '/approval-webhooks', { url: 'https://a.example/' })).status, 403);
  });
});
