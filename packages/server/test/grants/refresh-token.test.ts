import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

interface Tokens {
  access_token: string;
  refresh_token?: string;
  scope: string;
  id_token?: string;
}

forEachStore('refresh_token grant', (fixture) => {
  let server: TestServer;
  let apiKey: string;
  let app: { clientId: string };
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
    apiKey = (agent as unknown as { apiKey: string }).apiKey;
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true });
  });
  after(() => server.close());

  const flow = (scope = 'openid offline_access calc files:read') => ({ clientId: app.clientId, scope, resource: MCP_RESOURCE });
  async function tokens(scope?: string): Promise<Tokens> {
    const { code, verifier } = await obtainCode(server, flow(scope));
    return (await (await redeemCode(server, flow(scope), code, verifier)).json()) as Tokens;
  }
  const refresh = (token: string, extra: Record<string, string> = {}, clientId = app.clientId) =>
    server.postForm('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: clientId, ...extra });

  test('MCP-C-09 a public client gets a refresh token only when offline_access is granted', async () => {
    const withOffline = await tokens();
    assert.match(withOffline.refresh_token!, /^mrt_[A-Za-z0-9_-]{43}$/);
    // Another client: this one's earlier grant with offline_access would be kept (incremental authorization).
    const other = await createApp(server, { public: true });
    const options = { clientId: other.clientId, scope: 'openid calc', resource: MCP_RESOURCE };
    const { code, verifier } = await obtainCode(server, options);
    const without = (await (await redeemCode(server, options, code, verifier)).json()) as Tokens;
    assert.equal(without.scope, 'openid calc');
    assert.equal(without.refresh_token, undefined);
  });

  test('BCP-04 each refresh rotates the token; the new access token keeps sub, aud and scope', async () => {
    const first = await tokens();
    const response = await refresh(first.refresh_token!);
    assert.equal(response.status, 200);
    const second = (await response.json()) as Tokens;
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(second.scope, first.scope);
    const a = decodeJwt(first.access_token).payload;
    const b = decodeJwt(second.access_token).payload;
    assert.equal(b['sub'], a['sub']);
    assert.deepEqual(b['aud'], a['aud']);
    assert.equal(b['gid'], a['gid'], 'same grant (family)');
    assert.ok(second.id_token, 'a new ID token with openid');
    assert.equal(decodeJwt(second.id_token).payload['nonce'], undefined);
  });

  test('BCP-04 reusing a rotated refresh token → invalid_grant and the whole family is revoked', async () => {
    const first = await tokens();
    const second = (await (await refresh(first.refresh_token!)).json()) as Tokens;
    const reuse = await refresh(first.refresh_token!);
    assert.equal(reuse.status, 400);
    assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
    const afterReuse = await refresh(second.refresh_token!);
    assert.equal(((await afterReuse.json()) as { error: string }).error, 'invalid_grant', 'the newest token of the family is dead too');
    assert.equal(await isActive(server, apiKey, first.access_token), false);
    assert.equal(await isActive(server, apiKey, second.access_token), false);
    const audit = (await (await server.admin('GET', '/audit?event=grant.revoked')).json()) as { events: { detail: { reason: string } }[] };
    assert.ok(audit.events.some((e) => e.detail.reason === 'refresh token reused'));
  });

  test('BCP-04 two concurrent uses of one refresh token: one wins, the family is revoked', async () => {
    const first = await tokens();
    const results = await Promise.all([refresh(first.refresh_token!), refresh(first.refresh_token!)]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 400]);
    const winner = (await results.find((r) => r.status === 200)!.json()) as Tokens;
    assert.equal(((await (await refresh(winner.refresh_token!)).json()) as { error: string }).error, 'invalid_grant');
  });

  test('a refresh token presented by another client → invalid_grant, and it still works for its own client', async () => {
    const first = await tokens();
    const other = await createApp(server, { name: 'Other', public: true });
    const stolen = await refresh(first.refresh_token!, {}, other.clientId);
    assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_grant');
    assert.equal((await refresh(first.refresh_token!)).status, 200);
  });

  test('scope may narrow on refresh, never widen (invalid_scope)', async () => {
    const first = await tokens();
    const narrowed = (await (await refresh(first.refresh_token!, { scope: 'calc' })).json()) as Tokens;
    assert.equal(narrowed.scope, 'calc');
    const widened = await refresh(narrowed.refresh_token!, { scope: 'calc files:write' });
    assert.equal(((await widened.json()) as { error: string }).error, 'invalid_scope');
  });

  test('RV-03 revoking the refresh token revokes the grant: its access tokens become inactive', async () => {
    const first = await tokens();
    const revoked = await server.postForm('/revoke', { token: first.refresh_token!, client_id: app.clientId });
    assert.equal(revoked.status, 200);
    assert.equal(await isActive(server, apiKey, first.access_token), false);
    assert.equal(((await (await refresh(first.refresh_token!)).json()) as { error: string }).error, 'invalid_grant');
  });

  test('RV-02 another client cannot revoke the refresh token', async () => {
    const first = await tokens();
    const response = await server.postForm('/revoke', { token: first.refresh_token! }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(response.status, 400);
    assert.equal(await isActive(server, apiKey, first.access_token), true);
  });

  test('an expired refresh token (idle lifetime) → invalid_grant', async () => {
    const first = await tokens();
    server.clock.advance(server.config.authorization.refreshTokenIdleTtlSeconds + 1);
    assert.equal(((await (await refresh(first.refresh_token!)).json()) as { error: string }).error, 'invalid_grant');
  });

  test('OBO grants keep act on refresh; a disabled agent stops the refresh', async () => {
    const options = { ...flow(), requestedActor: agent.clientId };
    const { code, verifier } = await obtainCode(server, options);
    const first = (await (await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, agent) })).json()) as Tokens;
    const second = (await (await refresh(first.refresh_token!)).json()) as Tokens;
    assert.equal((decodeJwt(second.access_token).payload['act'] as { sub: string }).sub, agent.clientId);
    await server.admin('POST', `/agents/${agent.clientId}/disable`);
    assert.equal(((await (await refresh(second.refresh_token!)).json()) as { error: string }).error, 'invalid_grant');
    await server.admin('POST', `/agents/${agent.clientId}/enable`);
  });
});
