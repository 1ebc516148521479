import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyRevocationWebhook } from '@mandate/sdk/verify';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { httpReceiver as receiver, type Received } from '../helpers/http-receiver.ts';
import { forEachStore } from '../helpers/stores.ts';
import { agentToken, onBehalfOfRoot } from '../helpers/user-flow.ts';

/**
 * Revocation webhooks (issue 11 item 3), over real HTTP on both stores: a resource's webhook receives each
 * revocation event POSTed and signed with HMAC-SHA256 under its secret; a failing receiver is retried after a
 * backoff on the server's (frozen) clock; the admin API shows the delivery log; URLs go through the SSRF policy.
 * Tests wait for the receiver's requests and the log's rows, never for time.
 */

const RESOURCE = 'https://webhooks.example.com/mcp';

type Delivery = { event_id: string; status: string; attempts: number; next_attempt_at: number; last_result: string | null };

forEachStore('revocation webhooks', (fixture) => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture, { revocationWebhookAllowHttpLocalhost: true, revocationEventsPollMs: 100 });
    await registerAgentAndResource(server, {}, RESOURCE);
  });
  after(() => server.close());

  /** A resource of its own for each test, so each test's webhook is its own: its id and URI. */
  async function resource(): Promise<{ id: string; uri: string }> {
    const uri = `https://hook${++n}.example.com/api`;
    const response = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc'] });
    assert.equal(response.status, 201);
    return { id: ((await response.json()) as { id: string }).id, uri };
  }
  const setWebhook = (id: string, url: string) => server.admin('PUT', `/resources/${id}/revocation-webhook`, { url });
  const deliveries = async (id: string): Promise<Delivery[]> => ((await (await server.admin('GET', `/resources/${id}/revocation-webhook`)).json()) as { deliveries: Delivery[] }).deliveries;
  /** Reads the delivery log until `match` holds (each read is a real request; the dispatcher runs meanwhile). */
  async function logUntil(id: string, match: (log: Delivery[]) => boolean): Promise<Delivery[]> {
    for (;;) {
      const log = await deliveries(id);
      if (match(log)) return log;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  /** Issues an agent's own token for `uri` and revokes it; resolves to its jti. */
  async function revokeOne(uri = RESOURCE): Promise<string> {
    const agent = await registerAgentAndResource(server, { name: `hook agent ${++n}`, scopes: ['calc'] }, uri);
    const token = await agentToken(server, agent, { resource: uri, scope: 'calc' });
    assert.equal((await server.postForm('/revoke', { token }, { authorization: basicAuth(agent.clientId, agent.clientSecret) })).status, 200);
    return String(decodeJwt(token).payload['jti']);
  }

  test('a revocation is POSTed to the webhook, signed with its secret; the SDK verifies it and refuses a forgery', { timeout: 60_000 }, async () => {
    const { id, uri } = await resource();
    const hook = await receiver();
    try {
      const set = await setWebhook(id, hook.url);
      assert.equal(set.status, 200);
      const { secret } = (await set.json()) as { secret: string };
      const jti = await revokeOne(uri);
      let delivery: Received;
      for (let i = 1; ; i++) {
        delivery = await hook.next(i);
        if (delivery.body.includes(jti)) break;
      }
      const signature = delivery.headers['mandate-signature'] as string;
      const clock = () => server.clock.nowMs();
      const event = verifyRevocationWebhook(delivery.body, signature, { secret, clock });
      assert.deepEqual(event.jti, [jti]);
      assert.equal(event.id, delivery.headers['mandate-event-id']);
      assert.throws(() => verifyRevocationWebhook(delivery.body.replace(jti, 'forged'), signature, { secret, clock }), { code: 'ERR_REVOCATION_WEBHOOK_INVALID' });
      assert.throws(() => verifyRevocationWebhook(delivery.body, signature, { secret: `${secret}x`, clock }), { code: 'ERR_REVOCATION_WEBHOOK_INVALID' });
      assert.throws(() => verifyRevocationWebhook(delivery.body, signature, { secret, clock: () => clock() + 3_600_000 }), { code: 'ERR_REVOCATION_WEBHOOK_INVALID' }, 'a replay an hour later');
      const log = await logUntil(id, (l) => l.some((d) => d.event_id === event.id && d.status === 'delivered'));
      assert.equal(log.find((d) => d.event_id === event.id)!.last_result, 'HTTP 200');
      // The secret is never shown again, and the audit trail does not hold it.
      assert.equal(JSON.stringify(await (await server.admin('GET', `/resources/${id}/revocation-webhook`)).json()).includes(secret), false);
      const audit = await (await server.admin('GET', '/audit?event=resource.webhook_set&limit=50')).text();
      assert.equal(audit.includes(secret), false);
    } finally {
      await server.admin('DELETE', `/resources/${id}/revocation-webhook`);
      await hook.close();
    }
  });

  test('webhooks per resource: a revocation of a token for A is queued for A’s webhook only, never for B’s', { timeout: 60_000 }, async () => {
    const [a, b] = [await resource(), await resource()];
    const [hookA, hookB] = [await receiver(), await receiver()];
    try {
      assert.equal((await setWebhook(a.id, hookA.url)).status, 200);
      assert.equal((await setWebhook(b.id, hookB.url)).status, 200);
      const jtiA = await revokeOne(a.uri);
      const toA = await hookA.next(1);
      assert.ok(toA.body.includes(jtiA));
      assert.deepEqual((JSON.parse(toA.body) as { aud: string[] }).aud, [a.uri], 'the event names its audiences');
      // Deliveries are queued in log order: once B's webhook has the event about B's token, revoked after A's, it
      // would have had A's before it.
      const jtiB = await revokeOne(b.uri);
      const toB = await hookB.next(1);
      assert.ok(toB.body.includes(jtiB), 'B’s first delivery is about its own token');
      assert.equal(toB.body.includes(jtiA), false);
      const logB = await logUntil(b.id, (l) => l.some((d) => d.status === 'delivered'));
      assert.equal(logB.length, 1, 'nothing was queued for B about A’s token');
      assert.equal(hookA.received.some((r) => r.body.includes(jtiB)), false, 'nor for A about B’s');
    } finally {
      await server.admin('DELETE', `/resources/${a.id}/revocation-webhook`);
      await server.admin('DELETE', `/resources/${b.id}/revocation-webhook`);
      await hookA.close();
      await hookB.close();
    }
  });

  test('a user’s cutoff is queued only for the webhooks of their grants’ resources: disabling Alice (consent at A) reaches A’s, never B’s', { timeout: 60_000 }, async () => {
    const [a, b] = [await resource(), await resource()];
    const [hookA, hookB] = [await receiver(), await receiver()];
    try {
      assert.equal((await setWebhook(a.id, hookA.url)).status, 200);
      assert.equal((await setWebhook(b.id, hookB.url)).status, 200);
      const agent = await registerAgentAndResource(server, { name: `hook agent ${++n}`, scopes: ['calc'] }, a.uri);
      const { token } = await onBehalfOfRoot(server, agent, a.uri, `alice${n}@hooks.example`);
      const aliceId = String(decodeJwt(token).payload['sub']);
      assert.equal((await server.admin('POST', `/users/${aliceId}/disable`)).status, 200);
      let toA: Received;
      for (let i = 1; ; i++) {
        toA = await hookA.next(i);
        if (toA.body.includes(aliceId)) break;
      }
      const event = JSON.parse(toA.body) as { cutoff: { party: string; id: string }[]; aud: string[] };
      assert.deepEqual([event.cutoff[0]!.party, event.cutoff[0]!.id, event.aud], ['user', aliceId, [a.uri]]);
      // Queued in log order: B's first delivery is about its own token, revoked after the disable.
      const jtiB = await revokeOne(b.uri);
      const toB = await hookB.next(1);
      assert.ok(toB.body.includes(jtiB), 'B’s first delivery is about its own token');
      const logB = await logUntil(b.id, (l) => l.some((d) => d.status === 'delivered'));
      assert.equal(logB.length, 1, 'nothing was queued for B about Alice');
    } finally {
      await server.admin('DELETE', `/resources/${a.id}/revocation-webhook`);
      await server.admin('DELETE', `/resources/${b.id}/revocation-webhook`);
      await hookA.close();
      await hookB.close();
    }
  });

  test('a failing receiver is retried after the backoff on the server’s clock; the delivery log shows each attempt', { timeout: 60_000 }, async () => {
    const { id, uri } = await resource();
    const hook = await receiver([500]);
    try {
      assert.equal((await setWebhook(id, hook.url)).status, 200);
      const jti = await revokeOne(uri);
      const first = await hook.next(1);
      assert.ok(first.body.includes(jti));
      const [failed] = await logUntil(id, (l) => l[0]?.attempts === 1);
      assert.equal(failed!.status, 'pending');
      assert.equal(failed!.last_result, 'HTTP 500');
      assert.equal(failed!.next_attempt_at, server.clock.now() + 10, 'retried after 10 s, then doubling');
      assert.equal(hook.received.length, 1, 'not retried before its time');
      server.clock.advance(10);
      const second = await hook.next(2);
      assert.equal(second.body, first.body);
      const [delivered] = await logUntil(id, (l) => l[0]?.status === 'delivered');
      assert.equal(delivered!.attempts, 2);
      assert.equal(delivered!.last_result, 'HTTP 200');
      assert.equal((await server.admin('DELETE', `/resources/${id}/revocation-webhook`)).status, 204);
      assert.equal((await server.admin('GET', `/resources/${id}/revocation-webhook`)).status, 404);
    } finally {
      await hook.close();
    }
  });

  test('webhook URLs: https only (http on loopback in development); delivery connects to public addresses only (SSRF)', { timeout: 60_000 }, async () => {
    const { id, uri } = await resource();
    for (const url of ['http://example.com/hook', 'ftp://example.com/hook', 'https://user:pw@example.com/hook', 'not a url']) {
      const response = await setWebhook(id, url);
      assert.equal(response.status, 400, url);
      assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
    }
    assert.equal((await server.admin('PUT', `/resources/${id}/revocation-webhook`, { url: 'https://a.example/', extra: 1 })).status, 400, 'unknown members');
    assert.equal((await setWebhook(id, 'https://10.0.0.1/hook')).status, 200, 'an https URL is accepted; its address is checked at each delivery');
    try {
      await revokeOne(uri);
      const [refused] = await logUntil(id, (l) => l[0]?.attempts === 1);
      assert.equal(refused!.status, 'pending');
      assert.match(refused!.last_result ?? '', /^refused: .*10\.0\.0\.1.*private/);
    } finally {
      await server.admin('DELETE', `/resources/${id}/revocation-webhook`);
    }
  });
});
