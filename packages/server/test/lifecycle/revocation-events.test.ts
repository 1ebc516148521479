import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { subscribeRevocations, type RevocationEvent, type RevocationSubscriber } from '@mandate/sdk/verify';
import { createVerifier } from '@mandate/sdk/verify';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { agentToken, exchangeAs, onBehalfOfRoot } from '../helpers/user-flow.ts';

/**
 * Revocation events (issue 11 item 3, second half), over real HTTP on both stores: a resource subscribed to
 * GET /revocation-events with its API key learns of every revocation of tokens meant for it (a token and its
 * lineage, a grant, a party's cutoff), never of another resource's, and an SDK verifier given the subscription
 * refuses the JWTs of revoked chains without introspection.
 * Tests wait for the event itself (a promise the subscriber resolves), never for time.
 */

const RESOURCE = 'https://events.example.com/mcp';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, string>;

/** A subscriber whose events can be awaited one at a time. */
function subscriber(server: TestServer, apiKey: string, extra: { lastEventId?: string } = {}) {
  const received: { event: RevocationEvent; id: string }[] = [];
  const waiters: (() => void)[] = [];
  const subscription: RevocationSubscriber = subscribeRevocations({
    issuer: server.issuer,
    apiKey,
    ...extra,
    onEvent: (event, id) => {
      received.push({ event, id });
      waiters.splice(0).forEach((wake) => wake());
    },
  });
  /** Resolves with the first event received (from index `from`) that satisfies `match`. */
  async function next(match: (e: RevocationEvent) => boolean, from = 0): Promise<{ event: RevocationEvent; id: string }> {
    for (;;) {
      const found = received.slice(from).find((r) => match(r.event));
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return { subscription, received, next };
}

forEachStore('revocation events', (fixture) => {
  let server: TestServer;
  let apiKey: string;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture);
    apiKey = (await registerAgentAndResource(server, {}, RESOURCE)).apiKey;
  });
  after(() => server.close());

  const agent = (): Promise<Agent> => registerAgentAndResource(server, { name: `events agent ${++n}`, scopes: ['calc', 'files:read'] }, RESOURCE);
  const active = async (token: string): Promise<boolean> =>
    ((await (await server.postForm('/introspect', { token }, { authorization: `Bearer ${server.adminToken}` })).json()) as { active: boolean }).active;
  const exchange = (by: Agent, params: Record<string, string>) => exchangeAs(server, by, params);
  const root = (a: Agent) => onBehalfOfRoot(server, a, RESOURCE, `events${++n}@example.com`);
  const verifierFor = (audience: string, revocations?: RevocationSubscriber) =>
    createVerifier({ issuer: server.issuer, audience, clock: () => server.clock.now() * 1000, ...(revocations ? { revocations } : {}) });

  test('SR-14 revoking the root of a three-hop chain: all inactive at introspection, the subscribed SDK verifier refuses every JWT', { timeout: 60_000 }, async () => {
    const [a, b, c] = [await agent(), await agent(), await agent()];
    const { token: t0, appId } = await root(a);
    const t1 = await exchange(a, { subject_token: t0, audience: b.clientId });
    const t2 = await exchange(b, { subject_token: t1, resource: RESOURCE, scope: 'calc' });
    const t3 = await exchange(b, { subject_token: t2, audience: c.clientId });
    const chain = [t0, t1, t2, t3];
    const events = subscriber(server, apiKey);
    try {
      await events.subscription.ready;
      // Each token verified by a resource (or agent) it is meant for, with the subscription.
      const audiences = [RESOURCE, b.clientId, RESOURCE, c.clientId];
      for (const [i, t] of chain.entries()) assert.ok(await verifierFor(audiences[i]!, events.subscription).verify(t), `hop ${i} before`);

      assert.equal((await server.postForm('/revoke', { token: t0, client_id: appId })).status, 200);
      const jtis = chain.map((t) => String(decodeJwt(t).payload['jti']));
      const { event } = await events.next((e) => e.jti?.includes(jtis[0]!) ?? false);
      assert.deepEqual([...event.jti!].sort(), [...jtis].sort(), 'the event names the token and all its descendants');
      for (const [i, t] of chain.entries()) {
        assert.equal(await active(t), false, `hop ${i} at introspection`);
        await assert.rejects(verifierFor(audiences[i]!, events.subscription).verify(t), { code: 'ERR_TOKEN_INACTIVE' }, `hop ${i} at the SDK`);
        // Without the subscription the JWT alone still verifies: the event is what the resource needed.
        assert.ok(await verifierFor(audiences[i]!).verify(t));
      }
      // A revoke of a token revoked already changes nothing and emits nothing.
      const count = events.received.length;
      assert.equal((await server.postForm('/revoke', { token: t0, client_id: appId })).status, 200);
      await assert.rejects(verifierFor(RESOURCE, events.subscription).verify(t0), { code: 'ERR_TOKEN_INACTIVE' });
      assert.equal(events.received.length, count);
    } finally {
      events.subscription.close();
    }
  });

  test('issue 11 acceptance: revoking the root of a three-hop chain makes all three inactive, and a subscribed resource sees the event pushed at once, not on a poll (well within 1 s)', { timeout: 30_000 }, async (t) => {
    // Polling every 60 s: an event that arrives within this test's 30 s was pushed by the append itself.
    const pushed = await startTestServer(fixture, { revocationEventsPollMs: 60_000 });
    const events = subscriber(pushed, apiKey);
    try {
      const [a, b, c] = [await agent(), await agent(), await agent()];
      const { token: t0, appId } = await onBehalfOfRoot(pushed, a, RESOURCE, `pushed${++n}@example.com`);
      const t1 = await exchangeAs(pushed, a, { subject_token: t0, audience: b.clientId });
      const t2 = await exchangeAs(pushed, b, { subject_token: t1, resource: RESOURCE, scope: 'calc' });
      const t3 = await exchangeAs(pushed, b, { subject_token: t2, audience: c.clientId });
      await events.subscription.ready;
      const started = performance.now();
      assert.equal((await pushed.postForm('/revoke', { token: t0, client_id: appId })).status, 200);
      const jtis = [t0, t1, t2, t3].map((token) => String(decodeJwt(token).payload['jti']));
      const { event } = await events.next((e) => e.jti?.includes(jtis[0]!) ?? false);
      t.diagnostic(`the event reached the subscriber ${Math.round(performance.now() - started)} ms after the revoke request was sent`);
      assert.deepEqual([...event.jti!].sort(), [...jtis].sort());
      const latestExp = Math.max(...[t0, t1, t2, t3].map((token) => decodeJwt(token).payload['exp'] as number));
      assert.equal(event.exp, latestExp, 'the event says when a subscriber may forget it: the latest exp of what it names');
      for (const [i, token] of [t1, t2, t3].entries()) assert.equal(await active(token), false, `hop ${i + 1}`);
    } finally {
      events.subscription.close();
      await pushed.close();
    }
  });

  test('revocation events resume after Last-Event-ID, and a second instance on the same database streams them too', { timeout: 60_000 }, async () => {
    const a = await agent();
    const first = await root(a);
    const second = await root(a);
    const live = subscriber(server, apiKey);
    const other = await startTestServer(fixture, { revocationEventsPollMs: 100 });
    const elsewhere = subscriber(other, apiKey);
    try {
      await Promise.all([live.subscription.ready, elsewhere.subscription.ready]);
      const [j1, j2] = [first, second].map((r) => String(decodeJwt(r.token).payload['jti']));
      assert.equal((await server.postForm('/revoke', { token: first.token, client_id: first.appId })).status, 200);
      const one = await live.next((e) => e.jti?.includes(j1!) ?? false);
      await elsewhere.next((e) => e.jti?.includes(j1!) ?? false);
      assert.equal((await server.postForm('/revoke', { token: second.token, client_id: second.appId })).status, 200);
      await live.next((e) => e.jti?.includes(j2!) ?? false);

      // A subscriber that was away since the first event gets the second on resuming.
      const resumed = subscriber(other, apiKey, { lastEventId: one.id });
      try {
        const got = await resumed.next((e) => e.jti?.includes(j2!) ?? false);
        assert.equal(resumed.received.some((r) => r.event.jti?.includes(j1!)), false, 'nothing at or before Last-Event-ID');
        assert.ok(Number(got.id) > Number(one.id));
      } finally {
        resumed.subscription.close();
      }
    } finally {
      live.subscription.close();
      elsewhere.subscription.close();
      await other.close();
    }
  });

  test('SR-01 disabling an agent emits its cutoff and its revoked grants; the subscribed verifier refuses its tokens', { timeout: 60_000 }, async () => {
    const [a, other] = [await agent(), await agent()];
    const { token } = await root(a);
    const bystander = await root(other);
    const events = subscriber(server, apiKey);
    try {
      await events.subscription.ready;
      const verifier = verifierFor(RESOURCE, events.subscription);
      assert.ok(await verifier.verify(token));
      assert.equal((await server.admin('POST', `/agents/${encodeURIComponent(a.clientId)}/disable`)).status, 200);
      const { event } = await events.next((e) => e.cutoff?.some((c) => c.id === a.clientId) ?? false);
      assert.equal(event.cutoff![0]!.party, 'client');
      // The disable also revoked the agent's grants: one event names them.
      const gid = String(decodeJwt(token).payload['gid']);
      await events.next((e) => e.gid?.includes(gid) ?? false);
      await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_INACTIVE' });
      assert.ok(await verifier.verify(bystander.token), 'another agent’s token is untouched');
    } finally {
      events.subscription.close();
    }
  });

  test('revocation events per resource: revoking a token for A reaches A and its downstream D, pushed at once; B, subscribed too, sees nothing', { timeout: 60_000 }, async (t) => {
    // Polling every 60 s: an event that arrives within this test's 60 s was pushed by the append itself.
    const pushed = await startTestServer(fixture, { revocationEventsPollMs: 60_000 });
    t.after(() => pushed.close());
    const i = ++n;
    // D first: A names it as its downstream.
    const uris = { d: `https://d${i}.scoped.example/mcp`, a: `https://a${i}.scoped.example/mcp`, b: `https://b${i}.scoped.example/mcp` };
    const keys: Record<string, string> = {};
    for (const [name, uri] of Object.entries(uris)) {
      const created = await pushed.admin('POST', '/resources', { resource: uri, scopes: ['calc'], ...(name === 'a' ? { downstream_resources: [uris.d] } : {}) });
      assert.equal(created.status, 201, await created.clone().text());
      keys[name] = ((await created.json()) as { api_key: string }).api_key;
    }
    const made = await pushed.admin('POST', '/agents', { name: `scoped agent ${i}`, scopes: ['calc'], audiences: Object.values(uris) });
    const agentCreated = (await made.json()) as { client_id: string; client_secret: string };
    const agentA = { clientId: agentCreated.client_id, clientSecret: agentCreated.client_secret };
    const [atA, atB] = [await agentToken(pushed, agentA, { resource: uris.a, scope: 'calc' }), await agentToken(pushed, agentA, { resource: uris.b, scope: 'calc' })];
    // Gateway A exchanges the token it received for one to its downstream D: D is in A's token's chain.
    const downstream = await pushed.postForm('/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: atA, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource: uris.d }, { authorization: `Bearer ${keys['a']}` });
    assert.equal(downstream.status, 200, await downstream.clone().text());
    const atD = ((await downstream.json()) as Body)['access_token']!;
    const [jA, jB, jD] = [atA, atB, atD].map((token) => String(decodeJwt(token).payload['jti']));
    const [onA, onB, onD] = [subscriber(pushed, keys['a']!), subscriber(pushed, keys['b']!), subscriber(pushed, keys['d']!)];
    try {
      await Promise.all([onA, onB, onD].map((s) => s.subscription.ready));
      const started = performance.now();
      assert.equal((await pushed.postForm('/revoke', { token: atA }, { authorization: basicAuth(agentA.clientId, agentA.clientSecret) })).status, 200);
      const { event } = await onA.next((e) => e.jti?.includes(jA!) ?? false);
      t.diagnostic(`A received the event ${Math.round(performance.now() - started)} ms after the revoke request was sent (pushed, not polled)`);
      assert.deepEqual([...event.jti!].sort(), [jA, jD].sort());
      assert.deepEqual([...event.aud!].sort(), [uris.a, uris.d].sort(), 'the audiences of what it revokes');
      await onD.next((e) => e.jti?.includes(jD!) ?? false);
      // Events arrive in log order: once B has the event about its own token, revoked after A's, it would have had A's.
      assert.equal((await pushed.postForm('/revoke', { token: atB }, { authorization: basicAuth(agentA.clientId, agentA.clientSecret) })).status, 200);
      await onB.next((e) => e.jti?.includes(jB!) ?? false);
      assert.deepEqual(onB.received.map((r) => r.event.jti), [[jB]], 'B learned of its own token only');
      assert.equal(onA.received.some((r) => r.event.jti?.includes(jB!)), false, 'and A nothing of B’s');
    } finally {
      for (const s of [onA, onB, onD]) s.subscription.close();
    }
  });

  test('a user’s cutoff goes only to the resources of their grants: disabling Alice (consent at A) reaches A, deleting Bob (consent at B) reaches B', { timeout: 60_000 }, async () => {
    const i = ++n;
    const uris = { a: `https://a${i}.users.example/mcp`, b: `https://b${i}.users.example/mcp` };
    const keys: Record<string, string> = {};
    for (const [name, uri] of Object.entries(uris)) {
      const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc'] });
      assert.equal(created.status, 201, await created.clone().text());
      keys[name] = ((await created.json()) as { api_key: string }).api_key;
    }
    const made = (await (await server.admin('POST', '/agents', { name: `users agent ${i}`, scopes: ['calc'], audiences: [uris.a, uris.b] })).json()) as { client_id: string; client_secret: string };
    const both = { clientId: made.client_id, clientSecret: made.client_secret };
    const alice = await onBehalfOfRoot(server, both, uris.a, `alice${i}@users.example`);
    const bob = await onBehalfOfRoot(server, both, uris.b, `bob${i}@users.example`);
    const subjectOf = (token: string) => String(decodeJwt(token).payload['sub']);
    const [aliceId, bobId] = [subjectOf(alice.token), subjectOf(bob.token)];
    const cutOf = (userId: string) => (e: RevocationEvent) => e.cutoff?.some((c) => c.party === 'user' && c.id === userId) ?? false;
    const [onA, onB] = [subscriber(server, keys['a']!), subscriber(server, keys['b']!)];
    try {
      await Promise.all([onA, onB].map((s) => s.subscription.ready));
      const verifierA = verifierFor(uris.a, onA.subscription);
      assert.ok(await verifierA.verify(alice.token));
      assert.equal((await server.admin('POST', `/users/${aliceId}/disable`)).status, 200);
      const { event } = await onA.next(cutOf(aliceId));
      assert.deepEqual(event.aud, [uris.a], 'the resources of Alice’s grants');
      await assert.rejects(verifierA.verify(alice.token), { code: 'ERR_TOKEN_INACTIVE' });
      assert.equal((await server.admin('DELETE', `/users/${bobId}`)).status, 204);
      // Events arrive in log order: once B has Bob's cutoff, appended after Alice's, it would have had Alice's.
      assert.deepEqual((await onB.next(cutOf(bobId))).event.aud, [uris.b], 'the resources of Bob’s grants, read before they went with him');
      assert.equal(onB.received.some((r) => cutOf(aliceId)(r.event)), false, 'B never heard of Alice');
      // A marker for A, after Bob's deletion: A has had everything up to it, and nothing of Bob.
      const atA = await agentToken(server, both, { resource: uris.a, scope: 'calc' });
      assert.equal((await server.postForm('/revoke', { token: atA }, { authorization: basicAuth(both.clientId, both.clientSecret) })).status, 200);
      await onA.next((e) => e.jti?.includes(String(decodeJwt(atA).payload['jti'])) ?? false);
      assert.equal(onA.received.some((r) => cutOf(bobId)(r.event)), false, 'A never heard of Bob');
    } finally {
      for (const s of [onA, onB]) s.subscription.close();
    }
  });

  test('GET /revocation-events refuses a caller without a resource API key (401, WWW-Authenticate)', async () => {
    for (const authorization of [undefined, 'Bearer mrk_nope.nope', `Bearer ${server.adminToken}`]) {
      const response = await fetch(`${server.issuer}/revocation-events`, { headers: authorization ? { authorization } : {} });
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.equal(((await response.json()) as Body)['error'], 'invalid_client');
    }
  });
});
