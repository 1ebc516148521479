import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createVerifier, type RevocationEvent, type RevocationSubscriber, subscribeRevocations } from '@mandate/sdk/verify';
import { decodeJwt, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 11, the lifecycle of what resource servers obtain by downstream exchange, over real HTTP on both stores: a
 * gateway G may call D, and D (a gateway too) may call E; a person's on-behalf-of token for an agent at G is
 * exchanged by G for D (`t1`), and t1 by D for E (`t2`). Rotating (item 1) or deleting (item 5) G ends t1 and t2,
 * with a cutoff event; taking D off G's `downstream_resources` ends them too (item 2). Tests wait for events
 * themselves (a promise the subscriber resolves), never for time; the clock is the server's frozen TestClock.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const SCOPES = ['calc', 'files:read'];
const kek = randomBytes(32).toString('base64url');

type Body = Record<string, unknown>;
type Resource = { id: string; uri: string; apiKey: string };

/** A revocation-event subscriber whose events can be awaited. */
function subscriber(server: TestServer, apiKey: string) {
  const received: RevocationEvent[] = [];
  const waiters: (() => void)[] = [];
  const subscription: RevocationSubscriber = subscribeRevocations({
    issuer: server.issuer,
    apiKey,
    onEvent: (event) => {
      received.push(event);
      waiters.splice(0).forEach((wake) => wake());
    },
  });
  async function next(match: (e: RevocationEvent) => boolean): Promise<RevocationEvent> {
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return { subscription, received, next };
}

const cutoffOf = (party: string, id: string) => (e: RevocationEvent) => e.cutoff?.some((c) => c.party === party && c.id === id) ?? false;

forEachStore('resource servers in the chain: key rotation, downstream list, deletion, dry run', (fixture) => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    // A short poll: the end of a key's grace period is noticed on it.
    server = await startTestServer(fixture, { keys: { kek }, revocationEventsPollMs: 100 });
  });
  after(() => server.close());

  async function resource(uri: string, body: Body = {}): Promise<Resource> {
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: SCOPES, ...body });
    assert.equal(created.status, 201, await created.clone().text());
    const json = (await created.json()) as { id: string; api_key: string };
    return { id: json.id, uri, apiKey: json.api_key };
  }

  const exchange = async (apiKey: string, params: Record<string, string>) => {
    const response = await server.postForm('/token', { grant_type: TE, subject_token_type: AT, ...params }, { authorization: `Bearer ${apiKey}` });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };
  const exchanged = async (apiKey: string, params: Record<string, string>): Promise<string> => {
    const result = await exchange(apiKey, params);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body['access_token']!;
  };

  /** G → D → E, an agent, a person's token for the agent at G (`user`), and t1 (G's for D), t2 (D's for E). */
  async function chain(options: { scope?: string } = {}) {
    const i = ++n;
    const e = await resource(`https://e${i}.example.com/mcp`);
    const d = await resource(`https://d${i}.example.com/mcp`, { downstream_resources: [e.uri] });
    const g = await resource(`https://g${i}.example.com/mcp`, { downstream_resources: [d.uri] });
    const agentCreated = await server.admin('POST', '/agents', { name: `chain agent ${i}`, scopes: SCOPES, audiences: [g.uri, d.uri, e.uri] });
    const agentJson = (await agentCreated.json()) as { client_id: string; client_secret: string };
    const agent = { clientId: agentJson.client_id, clientSecret: agentJson.client_secret };
    const email = `chain${i}@example.com`;
    const userId = await createUser(server, email);
    const app = await createApp(server, { public: true });
    const flow = { clientId: app.clientId, scope: options.scope ?? 'calc files:read', resource: [g.uri, d.uri, e.uri], requestedActor: agent.clientId, email };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await redeemCode(server, flow, code, verifier, { actor_token: await actorToken(server, agent), resource: g.uri });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const tokens = (await redeemed.json()) as Record<string, string>;
    const user = tokens['access_token']!;
    const t1 = await exchanged(g.apiKey, { subject_token: user, resource: d.uri });
    const t2 = await exchanged(d.apiKey, { subject_token: t1, resource: e.uri });
    return { g, d, e, agent, app, userId, user, t1, t2, refreshToken: tokens['refresh_token'] };
  }

  const verifierFor = (audience: string, revocations: RevocationSubscriber) =>
    createVerifier({ issuer: server.issuer, audience, clock: () => server.clock.now() * 1000, revocations });

  test('issue 11 item 1: rotating a gateway’s key at once revokes what it obtained with the old key and what derives from it; one cutoff event; the new key’s tokens live', { timeout: 60_000 }, async () => {
    const c = await chain();
    const events = subscriber(server, c.e.apiKey);
    try {
      await events.subscription.ready;
      assert.ok(await verifierFor(c.e.uri, events.subscription).verify(c.t2));
      assert.equal(await isActive(server, c.d.apiKey, c.t1), true);
      assert.equal(await isActive(server, c.e.apiKey, c.t2), true);

      const rotated = await server.admin('POST', `/resources/${c.g.id}/rotate-key`, { grace_seconds: 0 });
      assert.equal(rotated.status, 200, await rotated.clone().text());
      const newKey = ((await rotated.json()) as { api_key: string }).api_key;

      assert.equal(await isActive(server, c.d.apiKey, c.t1), false, 'G obtained t1 with the replaced key');
      assert.equal(await isActive(server, c.e.apiKey, c.t2), false, 't2 derives from t1 (G is in its chain)');
      assert.equal(await isActive(server, newKey, c.user), true, 'the person’s token at G is not G’s: it lives');
      const event = await events.next(cutoffOf('resource', c.g.uri));
      assert.equal(event.cutoff!.find((cut) => cut.id === c.g.uri)!.iat_before, server.clock.now() + 1, 'every token G obtained up to this second');
      await assert.rejects(verifierFor(c.e.uri, events.subscription).verify(c.t2), { code: 'ERR_TOKEN_INACTIVE' });
      const refused = await exchange(c.d.apiKey, { subject_token: c.t1, resource: c.e.uri });
      assert.deepEqual([refused.status, refused.body['error'], refused.body['error_description']], [400, 'invalid_request', 'subject_token is not valid (inactive)']);

      // The old key is refused; the new one obtains a live token from the next second on.
      const withOldKey = await exchange(c.g.apiKey, { subject_token: c.user, resource: c.d.uri });
      assert.deepEqual([withOldKey.status, withOldKey.body['error']], [401, 'invalid_client']);
      server.clock.advance(1);
      const fresh = await exchanged(newKey, { subject_token: c.user, resource: c.d.uri });
      assert.equal(await isActive(server, c.d.apiKey, fresh), true);
      assert.ok(await verifierFor(c.d.uri, events.subscription).verify(fresh), 'the cutoff names only tokens issued before it');
    } finally {
      events.subscription.close();
    }
  });

  test('issue 11 item 1: after a graceful rotation the old key’s tokens live until the grace period ends, never beyond, then die with their cutoff event', { timeout: 60_000 }, async () => {
    const c = await chain();
    const events = subscriber(server, c.d.apiKey);
    try {
      await events.subscription.ready;
      const rotated = await server.admin('POST', `/resources/${c.g.id}/rotate-key`, { grace_seconds: 60 });
      assert.equal(rotated.status, 200, await rotated.clone().text());
      const { api_key: newKey, previous_key_valid_until: graceEnds } = (await rotated.json()) as { api_key: string; previous_key_valid_until: number };

      // During the grace period: t1 lives; the old key still exchanges, but for no longer than the grace period.
      assert.equal(await isActive(server, c.d.apiKey, c.t1), true);
      const duringGrace = await exchanged(c.g.apiKey, { subject_token: c.user, resource: c.d.uri });
      assert.equal(decodeJwt(duringGrace).payload['exp'], graceEnds, 'capped at the end of the old key’s grace period');
      // A token D derives from t1 during the grace period ends with it too.
      const derived = await exchanged(c.d.apiKey, { subject_token: c.t1, resource: c.e.uri });
      assert.ok((decodeJwt(derived).payload['exp'] as number) <= graceEnds, 'a child of an old-key token never outlives the grace period');
      server.clock.advance(1);
      const withNewKey = await exchanged(newKey, { subject_token: c.user, resource: c.d.uri });
      assert.equal(events.received.some(cutoffOf('resource', c.g.uri)), false, 'no cutoff before the grace period ends');

      server.clock.advance(60);
      assert.equal(await isActive(server, c.d.apiKey, c.t1), false, 'obtained with the old key before the rotation');
      assert.equal(await isActive(server, c.e.apiKey, c.t2), false);
      assert.equal(await isActive(server, c.d.apiKey, withNewKey), true, 'the new key’s token lives on');
      // The end of the grace period is noticed on the poll interval: its cutoff event follows.
      const event = await events.next(cutoffOf('resource', c.g.uri));
      assert.equal(event.cutoff!.find((cut) => cut.id === c.g.uri)!.iat_before, (decodeJwt(withNewKey).payload['iat'] as number), 'the new key counts from the second after the rotation');
      await assert.rejects(verifierFor(c.d.uri, events.subscription).verify(c.t1), { code: 'ERR_TOKEN_INACTIVE' });
      assert.ok(await verifierFor(c.d.uri, events.subscription).verify(withNewKey));
      const withOldKey = await exchange(c.g.apiKey, { subject_token: c.user, resource: c.d.uri });
      assert.deepEqual([withOldKey.status, withOldKey.body['error']], [401, 'invalid_client']);
    } finally {
      events.subscription.close();
    }
  });

  test('issue 11 item 2: taking a downstream off a gateway’s list makes its tokens for it inactive at introspection and exchange; each hop of the chain counts', async () => {
    const c = await chain();
    // D may no longer call E: t2 dies, t1 (G → D) lives.
    assert.equal((await server.admin('PATCH', `/resources/${c.d.id}`, { downstream_resources: [] })).status, 200);
    assert.equal(await isActive(server, c.e.apiKey, c.t2), false);
    assert.equal(await isActive(server, c.d.apiKey, c.t1), true);
    const refused = await exchange(c.d.apiKey, { subject_token: c.t1, resource: c.e.uri });
    assert.deepEqual([refused.status, refused.body['error'], refused.body['error_description']], [400, 'invalid_target', `resource ${c.e.uri} is not an allowed downstream of resource server ${c.d.uri}`]);

    // G may no longer call D: t1 dies, and t2 with it (the inner hop G → D is in t2's chain) even with D's list back.
    assert.equal((await server.admin('PATCH', `/resources/${c.d.id}`, { downstream_resources: [c.e.uri] })).status, 200);
    assert.equal(await isActive(server, c.e.apiKey, c.t2), true, 'a narrowing is undone by widening again, as for every allowance');
    assert.equal((await server.admin('PATCH', `/resources/${c.g.id}`, { downstream_resources: [] })).status, 200);
    assert.equal(await isActive(server, c.d.apiKey, c.t1), false);
    assert.equal(await isActive(server, c.e.apiKey, c.t2), false);
    const again = await exchange(c.d.apiKey, { subject_token: c.t1, resource: c.e.uri });
    assert.deepEqual([again.status, again.body['error_description']], [400, 'subject_token is not valid (inactive)']);
  });

  test('issue 11 item 3: the dry run answers for a resource server’s downstream exchange, with the real exchange’s reasons', async () => {
    const c = await chain();
    const check = async (body: Body) => {
      const response = await server.admin('POST', '/delegation/check', body);
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as Body;
    };

    const allowed = await check({ resource_server: c.g.uri, subject_token: c.user, resource: c.d.uri, scope: 'files:read' });
    assert.equal(allowed['allowed'], true, JSON.stringify(allowed));
    const token = allowed['token'] as Body;
    assert.deepEqual(token['aud'], [c.d.uri]);
    assert.equal(token['scope'], 'files:read');
    assert.equal(token['sub'], c.userId);
    assert.deepEqual(token['act'], { sub: c.g.uri, client_id: c.g.uri, sub_profile: 'resource_server', act: { sub: c.agent.clientId, client_id: c.agent.clientId, sub_profile: 'ai_agent' } });
    assert.equal((await check({ resource_server: c.g.id, subject_token: c.user, resource: c.d.uri }))['allowed'], true, 'by id too');

    // Each refusal is the one the real exchange gives.
    const assertSameRefusal = async (by: Resource, params: Record<string, string>) => {
      const dry = await check({ resource_server: by.uri, subject_token: params['subject_token']!, ...(params['resource'] ? { resource: params['resource'] } : {}), ...(params['scope'] ? { scope: params['scope'] } : {}) });
      const real = await exchange(by.apiKey, params);
      assert.equal(real.status, 400);
      assert.deepEqual({ allowed: dry['allowed'], error: dry['error'], error_description: dry['error_description'] }, { allowed: false, error: real.body['error'], error_description: real.body['error_description'] });
    };
    await assertSameRefusal(c.g, { subject_token: c.user, resource: c.e.uri }); // not G's downstream
    await assertSameRefusal(c.d, { subject_token: c.user, resource: c.e.uri }); // the token is not for D
    await assertSameRefusal(c.g, { subject_token: c.user, resource: c.d.uri, scope: 'exec' }); // beyond the subject
    assert.equal((await server.admin('PUT', `/resources/${c.d.id}/delegation-policy`, { max_depth: 1 })).status, 200);
    await assertSameRefusal(c.g, { subject_token: c.user, resource: c.d.uri }); // D's chain policy
    assert.equal((await server.admin('DELETE', `/resources/${c.d.id}/delegation-policy`)).status, 204);

    const both = await server.admin('POST', '/delegation/check', { actor: c.agent.clientId, resource_server: c.g.uri, subject_token: c.user });
    assert.equal(both.status, 400);
    assert.match(((await both.json()) as Body)['detail'] as string, /exactly one of actor and resource_server/);
    const unknown = await server.admin('POST', '/delegation/check', { resource_server: 'https://nobody.example.com/mcp', subject_token: c.user });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as Body)['detail'] as string, /resource_server: no resource/);
  });

  test('issue 11 item 4: a resource’s delegation-chain policy applies to an on-behalf-of code redemption and to its refresh', async () => {
    const i = ++n;
    const r = await resource(`https://obo${i}.example.com/mcp`);
    const agentJson = (await (await server.admin('POST', '/agents', { name: `obo agent ${i}`, scopes: SCOPES, audiences: [r.uri] })).json()) as { client_id: string; client_secret: string };
    const agent = { clientId: agentJson.client_id, clientSecret: agentJson.client_secret };
    const email = `obo${i}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const flow = { clientId: app.clientId, scope: 'calc offline_access', resource: r.uri, requestedActor: agent.clientId, email };

    // A policy that admits no actor but another: the code's token would break it.
    assert.equal((await server.admin('PUT', `/resources/${r.id}/delegation-policy`, { allowed_actors: [app.clientId] })).status, 200);
    const first = await obtainCode(server, flow);
    const refusedCode = await redeemCode(server, flow, first.code, first.verifier, { actor_token: await actorToken(server, agent) });
    assert.equal(refusedCode.status, 400);
    assert.deepEqual(await refusedCode.json(), { error: 'invalid_grant', error_description: `resource ${r.uri} refuses this delegation chain: actor ${agent.clientId} is not allowed` });

    // Without the policy the code works; a policy set since refuses the refresh.
    assert.equal((await server.admin('DELETE', `/resources/${r.id}/delegation-policy`)).status, 204);
    const second = await obtainCode(server, flow);
    const redeemed = await redeemCode(server, flow, second.code, second.verifier, { actor_token: await actorToken(server, agent) });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const refreshToken = ((await redeemed.json()) as Record<string, string>)['refresh_token']!;
    assert.ok(refreshToken);
    assert.equal((await server.admin('PUT', `/resources/${r.id}/delegation-policy`, { max_depth: 0 })).status, 200);
    const refreshed = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.clientId });
    assert.equal(refreshed.status, 400);
    assert.deepEqual(await refreshed.json(), { error: 'invalid_grant', error_description: `resource ${r.uri} refuses this delegation chain: the delegation chain has 1 actors; at most 0 are allowed` });
    // The same refresh token works again once the policy admits the chain (the refusal revoked nothing).
    assert.equal((await server.admin('PUT', `/resources/${r.id}/delegation-policy`, { max_depth: 1, require_human_root: true })).status, 200);
    const admitted = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.clientId });
    assert.equal(admitted.status, 200, await admitted.clone().text());
  });

  test('issue 11 item 5: deleting a resource server, an agent, an application or a user emits its cutoff event; subscribed verifiers refuse their tokens', { timeout: 60_000 }, async () => {
    const c = await chain();
    const events = subscriber(server, c.e.apiKey);
    try {
      await events.subscription.ready;
      const atD = verifierFor(c.d.uri, events.subscription);
      assert.ok(await atD.verify(c.t1));

      assert.equal((await server.admin('DELETE', `/resources/${c.g.id}`)).status, 204);
      await events.next(cutoffOf('resource', c.g.uri));
      await assert.rejects(atD.verify(c.t1), { code: 'ERR_TOKEN_INACTIVE' });
      assert.equal(await isActive(server, c.d.apiKey, c.t1), false);

      for (const [path, party, id] of [
        [`/agents/${c.agent.clientId}`, 'client', c.agent.clientId],
        [`/clients/${c.app.clientId}`, 'client', c.app.clientId],
        [`/users/${c.userId}`, 'user', c.userId],
      ] as const) {
        const deleted = await server.admin('DELETE', path);
        assert.equal(deleted.status, 204, `${path}: ${await deleted.clone().text()}`);
        const event = await events.next(cutoffOf(party, id));
        assert.equal(event.cutoff!.find((cut) => cut.id === id)!.iat_before, server.clock.now() + 1);
      }
    } finally {
      events.subscription.close();
    }
  });
});
