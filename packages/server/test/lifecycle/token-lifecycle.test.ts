import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createVerifier } from '@mandate/sdk/verify';
import { openStore } from '../../src/store/open-store.ts';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, agentToken, Browser, createApp, createUser, obtainCode, PASSWORD, redeemCode } from '../helpers/user-flow.ts';

/**
 * SR-01 and SR-02: a token lives only as long as its whole chain (user, client, agent, grant) and within their
 * current allowance, checked at every use (introspection, userinfo, token exchange, the SDK's introspection mode) and
 * at every refresh. Every test makes its own parties, so none depends on another's leftovers.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const FILES = 'https://files.example.com/api';
const bin = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
const kek = randomBytes(32).toString('base64url');

interface Tokens {
  access_token: string;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
  error?: string;
}
type Agent = { clientId: string; clientSecret: string };

forEachStore('SR-01 SR-02 token lifecycle', (fixture) => {
  let server: TestServer;
  let mcpKey: string;
  let filesKey: string;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture, { keys: { kek } });
    mcpKey = (await registerAgentAndResource(server)).apiKey;
    const files = await server.admin('POST', '/resources', { resource: FILES, scopes: ['files:read', 'files:write'] });
    filesKey = ((await files.json()) as { api_key: string }).api_key;
  });
  after(() => server.close());

  /** A fresh user, application and agent, so that disabling one touches no other test. */
  async function parties(agentFields: Record<string, unknown> = {}, appFields: Record<string, unknown> = {}) {
    const email = `user${++n}@example.com`;
    const userId = await createUser(server, email);
    const app = await createApp(server, { public: true, ...appFields });
    const agent: Agent = await registerAgentAndResource(server, { name: `agent ${n}`, scopes: ['calc', 'files:read'], ...agentFields });
    return { email, userId, app, agent };
  }

  /** An on-behalf-of grant: code + PKCE with requested_actor, redeemed with the agent's own token. */
  async function oboTokens(p: Awaited<ReturnType<typeof parties>>, scope: string, resource: string | string[] = MCP_RESOURCE): Promise<Tokens> {
    const options = { clientId: p.app.clientId, scope, resource, requestedActor: p.agent.clientId, email: p.email };
    const { code, verifier } = await obtainCode(server, options);
    const response = await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, p.agent) });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Tokens;
  }

  async function appTokens(p: Awaited<ReturnType<typeof parties>>, scope: string): Promise<Tokens> {
    const options = { clientId: p.app.clientId, scope, email: p.email };
    const { code, verifier } = await obtainCode(server, options);
    return (await (await redeemCode(server, options, code, verifier)).json()) as Tokens;
  }

  const refresh = async (clientId: string, token: string, extra: Record<string, string> = {}): Promise<{ status: number; body: Tokens }> => {
    const response = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: clientId, ...extra });
    return { status: response.status, body: (await response.json()) as Tokens };
  };
  const introspect = async (token: string, apiKey = mcpKey): Promise<Record<string, unknown>> =>
    (await (await server.postForm('/introspect', { token }, { authorization: `Bearer ${apiKey}` })).json()) as Record<string, unknown>;
  const userinfo = (token: string) => fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
  const exchange = async (agent: Agent, subject: string, extra: Record<string, string> = {}) => {
    const response = await server.postForm(
      '/token',
      { grant_type: TE, subject_token: subject, subject_token_type: AT, actor_token: await actorToken(server, agent), actor_token_type: AT, ...extra },
      { authorization: basicAuth(agent.clientId, agent.clientSecret) },
    );
    return { status: response.status, body: (await response.json()) as Tokens };
  };
  const sdkVerifier = () =>
    createVerifier({ issuer: server.issuer, audience: MCP_RESOURCE, clock: () => server.clock.now() * 1000, introspection: { credentials: { apiKey: mcpKey }, cacheTtlSeconds: 0 } });

  for (const kind of ['user', 'agent', 'application'] as const) {
    test(`SR-01 re-enabling the ${kind} revives nothing issued before the disable: refresh, introspection, userinfo, token exchange, the SDK`, async () => {
      const p = await parties();
      const obo = await oboTokens(p, 'openid offline_access calc');
      const signIn = await appTokens(p, 'openid email offline_access');
      assert.equal((await introspect(obo.access_token))['active'], true);
      assert.equal((await userinfo(signIn.access_token)).status, 200);
      assert.equal((await sdkVerifier().verify(obo.access_token)).subject, p.userId);

      const path = { user: `/users/${p.userId}`, agent: `/agents/${p.agent.clientId}`, application: `/clients/${p.app.clientId}` }[kind];
      assert.equal((await server.admin('POST', `${path}/disable`)).status, 200);
      server.clock.advance(5);
      assert.equal((await server.admin('POST', `${path}/enable`)).status, 200);
      server.clock.advance(5);

      const refreshed = await refresh(p.app.clientId, obo.refresh_token!);
      assert.equal(refreshed.status, 400, JSON.stringify(refreshed.body));
      assert.equal(refreshed.body.error, 'invalid_grant');
      assert.deepEqual(await introspect(obo.access_token), { active: false });
      await assert.rejects(sdkVerifier().verify(obo.access_token), { code: 'ERR_TOKEN_INACTIVE' });
      const exchanged = await exchange(p.agent, obo.access_token);
      assert.equal(exchanged.status, 400);
      assert.equal(exchanged.body.error, 'invalid_request');
      if (kind === 'agent') {
        // The sign-in grant named no agent: it was never part of this chain and lives on.
        assert.equal((await userinfo(signIn.access_token)).status, 200);
        assert.equal((await refresh(p.app.clientId, signIn.refresh_token!)).status, 200);
      } else {
        assert.equal((await userinfo(signIn.access_token)).status, 401);
        assert.equal((await refresh(p.app.clientId, signIn.refresh_token!)).body.error, 'invalid_grant');
      }
      // What is issued after the enable works.
      const fresh = await oboTokens(p, 'openid offline_access calc');
      assert.equal((await introspect(fresh.access_token))['active'], true);
      assert.equal((await refresh(p.app.clientId, fresh.refresh_token!)).status, 200);
    });
  }

  test('SR-01 a disable written by another process without touching the grants (an older CLI) still ends them: the chain is checked at every refresh and use', async () => {
    const p = await parties();
    const obo = await oboTokens(p, 'openid offline_access calc');
    const other = await openStore(fixture.url);
    try {
      const at = server.clock.now();
      await other.updateClient(p.agent.clientId, { status: 'disabled', tokensValidAfter: at + 1, updatedAt: at });
      await other.updateClient(p.agent.clientId, { status: 'active', updatedAt: at });
      await other.updateUser(p.userId, { status: 'disabled', tokensValidAfter: at + 1, updatedAt: at });
      await other.updateUser(p.userId, { status: 'active', updatedAt: at });
    } finally {
      await other.close();
    }
    server.clock.advance(5);
    assert.equal((await refresh(p.app.clientId, obo.refresh_token!)).body.error, 'invalid_grant');
    assert.deepEqual(await introspect(obo.access_token), { active: false });
  });

  test('SR-01 an admin password reset ends the user’s grants, their tokens and sessions (admin API and CLI)', async () => {
    for (const via of ['admin API', 'CLI'] as const) {
      const p = await parties();
      const browser = new Browser();
      const options = { clientId: p.app.clientId, scope: 'openid offline_access calc', resource: MCP_RESOURCE, requestedActor: p.agent.clientId, email: p.email };
      const { code, verifier } = await obtainCode(server, options, browser);
      const tokens = (await (await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, p.agent) })).json()) as Tokens;
      assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'signed in');

      if (via === 'admin API') {
        assert.equal((await server.admin('PATCH', `/users/${p.userId}`, { password: 'a whole new passphrase' })).status, 200);
      } else {
        const result = spawnSync(process.execPath, [bin, 'user', 'set-password', p.email, '--db', fixture.url], {
          input: 'a whole new passphrase\n',
          encoding: 'utf8',
          env: { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' },
        });
        assert.equal(result.status, 0, result.stderr);
      }
      server.clock.advance(5);
      assert.equal((await refresh(p.app.clientId, tokens.refresh_token!)).body.error, 'invalid_grant', via);
      assert.deepEqual(await introspect(tokens.access_token), { active: false }, via);
      assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 302, `${via}: the session ended`);
      const grants = await server.store.listUserGrants(p.userId);
      assert.ok(grants.length > 0 && grants.every((g) => g.status === 'revoked'), `${via}: every grant is revoked`);
    }
  });

  test('SR-01 with users.passwordResetRevokesGrants off, a password reset ends the sessions but keeps the grants', async () => {
    const keeping = await startTestServer(fixture, { keys: { kek }, users: { passwordResetRevokesGrants: false } });
    try {
      const userId = await createUser(keeping, `keep${++n}@example.com`);
      const app = await createApp(keeping, { public: true });
      const options = { clientId: app.clientId, scope: 'openid offline_access', email: `keep${n}@example.com` };
      const { code, verifier } = await obtainCode(keeping, options);
      const tokens = (await (await redeemCode(keeping, options, code, verifier)).json()) as Tokens;
      assert.equal((await keeping.admin('PATCH', `/users/${userId}`, { password: PASSWORD.split('').reverse().join('') })).status, 200);
      keeping.clock.advance(5);
      const refreshed = await keeping.postForm('/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: app.clientId });
      assert.equal(refreshed.status, 200);
    } finally {
      await keeping.close();
    }
  });

  test('SR-02 narrowing an agent’s scopes narrows what refresh returns; nothing left → invalid_grant', async () => {
    const p = await parties({ scopes: ['calc', 'files:read'] });
    const obo = await oboTokens(p, 'openid offline_access calc files:read');
    assert.equal(obo.scope, 'openid offline_access calc files:read');

    assert.equal((await server.admin('PATCH', `/agents/${p.agent.clientId}`, { scopes: ['calc'] })).status, 200);
    const narrowed = await refresh(p.app.clientId, obo.refresh_token!);
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    assert.equal(narrowed.body.scope, 'openid offline_access calc');
    assert.equal(decodeJwt(narrowed.body.access_token).payload['scope'], 'openid offline_access calc');
    // Asking for a scope the agent may no longer hold is refused, not silently widened.
    assert.equal((await refresh(p.app.clientId, narrowed.body.refresh_token!, { scope: 'files:read' })).body.error, 'invalid_scope');

    assert.equal((await server.admin('PATCH', `/agents/${p.agent.clientId}`, { scopes: ['exec'] })).status, 200);
    const none = await refresh(p.app.clientId, narrowed.body.refresh_token!);
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'invalid_grant');
  });

  test('SR-02 narrowing an application’s scopes or an agent’s audiences narrows what refresh returns', async () => {
    const p = await parties({ scopes: ['calc', 'files:read'], audiences: [MCP_RESOURCE, FILES] });
    const obo = await oboTokens(p, 'openid offline_access calc files:read', [MCP_RESOURCE, FILES]);
    assert.deepEqual([decodeJwt(obo.access_token).payload['aud']].flat().sort(), [FILES, MCP_RESOURCE, `${server.issuer}/userinfo`].sort());

    assert.equal((await server.admin('PATCH', `/clients/${p.app.clientId}`, { scopes: ['files:read', 'exec'] })).status, 200);
    const appNarrowed = await refresh(p.app.clientId, obo.refresh_token!);
    assert.equal(appNarrowed.body.scope, 'openid offline_access files:read');

    assert.equal((await server.admin('PATCH', `/agents/${p.agent.clientId}`, { audiences: [FILES] })).status, 200);
    const agentNarrowed = await refresh(p.app.clientId, appNarrowed.body.refresh_token!);
    assert.equal(agentNarrowed.status, 200, JSON.stringify(agentNarrowed.body));
    assert.deepEqual(decodeJwt(agentNarrowed.body.access_token).payload['aud'], [FILES, `${server.issuer}/userinfo`]);
    // Naming the resource the agent may no longer use is refused.
    assert.equal((await refresh(p.app.clientId, agentNarrowed.body.refresh_token!, { resource: MCP_RESOURCE })).body.error, 'invalid_target');
  });

  test('SR-02 tokens in use carry only the current allowance: introspection reports the narrowed scope and drops a resource, inactive when nothing is left', async () => {
    const p = await parties({ scopes: ['calc', 'files:read'], audiences: [MCP_RESOURCE, FILES] });
    const own = await agentToken(server, p.agent, { resource: MCP_RESOURCE, scope: 'calc files:read' });
    const obo = await oboTokens(p, 'openid offline_access calc files:read', [MCP_RESOURCE, FILES]);
    assert.equal((await introspect(own))['scope'], 'calc files:read');

    assert.equal((await server.admin('PATCH', `/agents/${p.agent.clientId}`, { scopes: ['calc'], audiences: [MCP_RESOURCE] })).status, 200);
    const ownNow = await introspect(own);
    assert.equal(ownNow['active'], true);
    assert.equal(ownNow['scope'], 'calc');
    const oboNow = await introspect(obo.access_token);
    assert.equal(oboNow['active'], true);
    assert.equal(oboNow['scope'], 'openid offline_access calc');
    assert.deepEqual([oboNow['aud']].flat(), [MCP_RESOURCE, `${server.issuer}/userinfo`], 'userinfo is never narrowed away');
    assert.deepEqual(await introspect(obo.access_token, filesKey), { active: false }, 'the dropped resource no longer sees it');
    // The SDK in introspection mode grants only what the server says the token may still carry.
    const auth = await sdkVerifier().verify(obo.access_token, { requiredScopes: ['calc'] });
    assert.deepEqual(auth.scopes, ['openid', 'offline_access', 'calc']);
    await assert.rejects(sdkVerifier().verify(obo.access_token, { requiredScopes: ['files:read'] }), { code: 'ERR_INSUFFICIENT_SCOPE' });

    assert.equal((await server.admin('PATCH', `/agents/${p.agent.clientId}`, { scopes: ['exec'] })).status, 200);
    assert.deepEqual(await introspect(own), { active: false });
    assert.deepEqual(await introspect(obo.access_token), { active: false });
  });

  test('SR-02 token exchange starts from the subject token’s current allowance (the application narrowed, the exchanging agent not)', async () => {
    const p = await parties({ scopes: ['calc', 'files:read'] });
    const obo = await oboTokens(p, 'openid calc files:read');
    assert.equal((await server.admin('PATCH', `/clients/${p.app.clientId}`, { scopes: ['calc'] })).status, 200);
    const asked = await exchange(p.agent, obo.access_token, { scope: 'files:read' });
    assert.equal(asked.status, 400);
    assert.equal(asked.body.error, 'invalid_scope');
    const defaulted = await exchange(p.agent, obo.access_token);
    assert.equal(defaulted.status, 200, JSON.stringify(defaulted.body));
    assert.equal(defaulted.body.scope, 'calc');
  });
});
