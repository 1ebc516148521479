import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RevocationEvent } from '../../packages/sdk/src/verify/index.ts';
import { createVerifier, subscribeRevocations } from '../../packages/sdk/src/verify/index.ts';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';

/**
 * Issue 11 (SDK remainder): the revocation subscriber never fails open. A flood of self-revocations pushes more
 * events than `maxEntries` into a resource's subscriber, over real HTTP on both stores: the revoked tokens whose
 * entries had to be forgotten are introspected (with the subscriber's API key) and refused, where before they
 * verified again; a live token issued before the horizon is introspected and accepted; one issued after it is
 * accepted without a request. Tests wait for the events themselves, never for time.
 */

const RESOURCE = 'https://overflow.example.com/mcp';
const MAX_ENTRIES = 8;
const FLOOD = 24;

forEachStore('SDK revocation state past maxEntries', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { scopes: ['calc'] }, RESOURCE);
  });
  after(() => server.close());

  const mint = async (): Promise<string> => {
    const response = await server.postForm('/token', { grant_type: 'client_credentials', resource: RESOURCE, scope: 'calc' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(response.status, 200);
    return ((await response.json()) as { access_token: string }).access_token;
  };

  test('a flood of revocations past maxEntries: forgotten revoked tokens are introspected and refused, never accepted; newer tokens need no request', { timeout: 60_000 }, async () => {
    const introspections: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/introspect')) introspections.push(String(init?.body ?? ''));
      return fetch(input, init);
    };
    const received: RevocationEvent[] = [];
    const waiters: (() => void)[] = [];
    const subscription = subscribeRevocations({
      issuer: server.issuer,
      apiKey: agent.apiKey,
      maxEntries: MAX_ENTRIES,
      // The events of this resource's tokens name it in `aud` (a server without `aud` sends none: applied all the same).
      audience: RESOURCE,
      clock: server.clock.nowMs,
      fetch: countingFetch,
      onEvent: (event) => {
        received.push(event);
        waiters.splice(0).forEach((wake) => wake());
      },
    });
    try {
      await subscription.ready;
      const verifier = createVerifier({ issuer: server.issuer, audience: RESOURCE, clock: server.clock.nowMs, revocations: subscription });
      const flood = await Promise.all(Array.from({ length: FLOOD }, mint));
      const live = await mint();
      for (const token of [...flood, live]) assert.ok(await verifier.verify(token), 'every token verifies before the flood');

      // The agent revokes its own tokens one by one (RFC 7009): one event each, each naming one jti.
      for (const token of flood) assert.equal((await server.postForm('/revoke', { token }, { authorization: basicAuth(agent.clientId, agent.clientSecret) })).status, 200);
      const jtis = flood.map((token) => String(decodeJwt(token).payload['jti']));
      const last = jtis.at(-1)!;
      while (!received.some((event) => event.jti?.includes(last))) await new Promise<void>((resolve) => waiters.push(resolve));
      assert.equal(received.flatMap((event) => event.jti ?? []).filter((jti) => jtis.includes(jti)).length, FLOOD, 'every revocation arrived');

      // The oldest revocations were forgotten: the tokens they named are uncertain, asked about, and refused.
      const forgotten = flood.slice(0, FLOOD - MAX_ENTRIES);
      for (const token of forgotten) {
        const claims = decodeJwt(token).payload as { iat: number; jti: string; sub: string; client_id: string; exp: number; iss: string; aud: string };
        assert.equal(subscription.isRevoked(claims as never), false, 'its entry is gone');
        assert.equal(subscription.isUncertain(claims), true);
        const before = introspections.length;
        await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_INACTIVE' });
        assert.equal(introspections.length, before + 1, 'the introspection endpoint was asked');
      }
      // Those still kept are refused without a request.
      const asked = introspections.length;
      for (const token of flood.slice(FLOOD - MAX_ENTRIES)) await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_INACTIVE' });
      assert.equal(introspections.length, asked);
      // A live token issued before the horizon: asked about, and accepted.
      assert.ok(await verifier.verify(live));
      assert.equal(introspections.length, asked + 1);

      // Past the horizon (the newest forgotten event plus the clock skew allowed), a new token needs no request.
      server.clock.advance(120);
      const fresh = await mint();
      assert.ok(await verifier.verify(fresh));
      assert.equal(introspections.length, asked + 1, 'no introspection for a token issued after the horizon');
    } finally {
      subscription.close();
    }
  });
});
