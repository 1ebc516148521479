import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createDpopProof, type DpopKey, dpopKeyFrom } from '@mandate/protocol';
import { basicAuth, httpCalls, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * Issue 14 item 4: two instances on one database whose clocks disagree by SKEW seconds, within the documented
 * tolerance (`tokens.clockSkewSeconds`, default 60). Each runs on its own frozen clock, `ahead` exactly SKEW seconds
 * ahead of `behind`. Every time check is made on the clock of the instance that makes it, so a skew moves an expiry by
 * at most the skew; DPoP's iat window absorbs it; and the shared replay markers outlive the skew, so no instance
 * forgets a proof the other still accepts.
 */
const SKEW = 30;

const newKey = (): DpopKey => dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');

forEachStore('two instances with skewed clocks', (fixture) => {
  let behind: TestServer;
  let ahead: TestServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  let app: { clientId: string };
  let approverToken: string;

  before(async () => {
    // Delivery rounds (which also close expired approval requests on their instance's clock) once a minute: FAULT-15
    // compares both clocks' view of one expiry, which a round of the instance ahead would otherwise settle for both.
    behind = await startTestServer(fixture, { revocationEventsPollMs: 60_000 });
    // One issuer for both, as behind a load balancer; each is called at its own port.
    const second = await startTestServer(fixture, { issuer: behind.issuer, revocationEventsPollMs: 60_000 });
    const base = `http://localhost:${second.port}`;
    ahead = Object.assign(second, httpCalls(base, second.adminToken));
    // Both clocks started at their own start-up instant: set `ahead` to exactly SKEW seconds past `behind`.
    ahead.clock.advance((behind.clock.nowMs() - ahead.clock.nowMs()) / 1000 + SKEW);
    agent = (await registerAgentAndResource(behind)) as typeof agent;
    await createUser(behind, 'ada@example.com');
    app = await createApp(behind, { public: true });
    await createUser(behind, 'approver@example.com', { roles: ['approver'] });
    const minted = await behind.admin('POST', '/admin-tokens', { name: 'approver', role: 'approver', user: 'approver@example.com' });
    approverToken = ((await minted.json()) as { token: string }).token;
  });
  after(async () => {
    await behind.close();
    await ahead.close();
  });

  const advanceBoth = (seconds: number) => {
    behind.clock.advance(seconds);
    ahead.clock.advance(seconds);
  };
  const flow = () => ({ clientId: app.clientId, scope: 'openid calc', resource: MCP_RESOURCE });
  const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

  test('FAULT-12 a code is judged by the redeeming instance\'s clock: its 60 s lifetime moves by the skew, no more; an expired code is spent', async () => {
    const fresh = await obtainCode(behind, flow());
    assert.equal((await redeemCode(ahead, flow(), fresh.code, fresh.verifier)).status, 200, 'issued behind, redeemed ahead within its lifetime');

    const late = await obtainCode(behind, flow());
    advanceBoth(60 - SKEW + 1);
    const expiredAhead = await redeemCode(ahead, flow(), late.code, late.verifier);
    assert.equal(expiredAhead.status, 400, 'past its lifetime on the clock that is ahead');
    assert.equal(await errorOf(expiredAhead), 'invalid_grant');
    // The code is consumed before its expiry is checked (grants/authorization-code.ts): once refused, it is spent.
    const afterwards = await redeemCode(behind, flow(), late.code, late.verifier);
    assert.equal(await errorOf(afterwards), 'invalid_grant', 'never redeemed on the other instance afterwards');
  });

  test('FAULT-13 DPoP: a proof up to the tolerance ahead is accepted, beyond it refused; a proof replayed is refused even after the instance ahead purged', async () => {
    const key = newKey();
    // `htu` is the shared issuer's token endpoint, whichever instance the load balancer picks.
    const proof = (_at: TestServer, iat: number) => createDpopProof(key, { method: 'POST', url: `${behind.issuer}/token` }, iat);
    const clientCredentials = (server: TestServer, dpop: string) =>
      server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret), dpop });

    // A client on the clock that is ahead, at the instance behind: iat SKEW seconds in the future, within tolerance.
    assert.equal((await clientCredentials(behind, proof(behind, ahead.clock.now()))).status, 200);
    const tooFar = await clientCredentials(behind, proof(behind, behind.clock.now() + behind.config.tokens.clockSkewSeconds + 1));
    assert.equal(await errorOf(tooFar), 'invalid_dpop_proof');

    // A proof near the end of its 300 s window behind, already past it ahead: accepted once, behind.
    const old = proof(behind, behind.clock.now() - behind.config.dpop.proofMaxAgeSeconds + 1);
    assert.equal((await clientCredentials(behind, old)).status, 200);
    assert.equal(await errorOf(await clientCredentials(ahead, old)), 'invalid_dpop_proof', 'too old for the instance ahead');
    // The instance ahead runs its purge: the marker must outlive the window of the instance behind.
    await ahead.store.purgeExpired(ahead.clock.now());
    const replayed = await clientCredentials(behind, old);
    assert.equal(replayed.status, 400, 'the replay is still recognised');
    assert.deepEqual(await replayed.json(), { error: 'invalid_dpop_proof', error_description: 'the DPoP proof was used before' });
  });

  test('FAULT-14 token expiry is judged by the introspecting instance\'s clock: the instance ahead sees it expire the skew earlier', async () => {
    const issued = await behind.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const { access_token: token, expires_in: lifetime } = (await issued.json()) as { access_token: string; expires_in: number };
    const active = async (server: TestServer) =>
      ((await (await server.postForm('/introspect', { token }, { authorization: `Bearer ${agent.apiKey}` })).json()) as { active: boolean }).active;
    assert.equal(await active(ahead), true);
    advanceBoth(lifetime - SKEW);
    assert.equal(await active(behind), true, 'SKEW seconds of life left behind');
    assert.equal(await active(ahead), false, 'expired ahead');
    advanceBoth(SKEW);
    assert.equal(await active(behind), false, 'and behind, SKEW seconds later: never later than its exp plus the skew');
  });

  test('FAULT-15 CIBA across skewed instances: the interval check is off by at most the skew (a slow_down only lengthens it); an approved request yields its token once; expiry moves by the skew', async () => {
    const as = (server: TestServer, path: string, params: Record<string, string>) => server.postForm(path, params, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const ask = async (binding: string) => {
      const started = await as(behind, '/bc-authorize', { scope: 'openid calc', resource: MCP_RESOURCE, login_hint: 'ada@example.com', binding_message: binding });
      assert.equal(started.status, 200, await started.clone().text());
      return (await started.json()) as { auth_req_id: string; interval: number; expires_in: number };
    };
    const poll = (server: TestServer, authReqId: string) => as(server, '/token', { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId });
    const pollError = async (server: TestServer, authReqId: string) => errorOf(await poll(server, authReqId));

    const { auth_req_id: id, interval } = await ask('skew-approve');
    assert.equal(await pollError(ahead, id), 'authorization_pending');
    // The poll just recorded carries the clock that is ahead: at the instance behind, a poll after the interval
    // still looks SKEW seconds early, and is slowed down; the client waits the longer interval and is answered.
    advanceBoth(interval);
    assert.equal(await pollError(behind, id), 'slow_down');
    advanceBoth(interval + 5);
    assert.equal(await pollError(behind, id), 'authorization_pending');

    const list = (await (await fetch(`${behind.issuer}/admin/v1/approvals?status=pending`, { headers: { authorization: `Bearer ${approverToken}` } })).json()) as {
      approvals: { id: string; justification: string }[];
    };
    const approval = list.approvals.find((a) => a.justification === 'skew-approve')!;
    const decided = await fetch(`${behind.issuer}/admin/v1/approvals/${approval.id}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approverToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve' }),
    });
    assert.equal(decided.status, 200, await decided.text());
    // Approved: no interval applies any more, on either clock; the tokens come once.
    assert.equal((await poll(ahead, id)).status, 200);
    assert.equal(await pollError(behind, id), 'invalid_grant');

    const { auth_req_id: expiring, expires_in: lifetime } = await ask('skew-expire');
    advanceBoth(lifetime - SKEW);
    // Behind first: once the instance ahead has judged it expired, its delivery round may record the expiry (on its own
    // clock, within the skew) for every instance; the suite's rounds are a minute apart so that none falls in between.
    assert.equal(await pollError(behind, expiring), 'authorization_pending', 'SKEW seconds of life left on the clock behind');
    assert.equal(await pollError(ahead, expiring), 'expired_token', 'expired on the clock that is ahead');
  });
});
