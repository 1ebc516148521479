import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, obtainCode, pkce, redeemCode, redirectParams } from '../helpers/user-flow.ts';

/**
 * Scope policies (issue 12 item 1) over real HTTP: every grant is decided by the policy of each scope it carries.
 * Each test registers its own resource (its own URI), so the policies of one never reach another.
 */

const REDIRECT = 'https://app.example.com/callback';
let counter = 0;
const freshResource = () => `https://policy-${++counter}.example.com/mcp`;

async function resourceId(server: TestServer, uri: string): Promise<string> {
  const list = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
  return list.resources.find((r) => r.resource === uri)!.id;
}

async function setPolicy(server: TestServer, uri: string, scope: string, body: Record<string, unknown>): Promise<Response> {
  return server.admin('PUT', `/resources/${await resourceId(server, uri)}/policies/${encodeURIComponent(scope)}`, body);
}

async function mustSetPolicy(server: TestServer, uri: string, scope: string, body: Record<string, unknown>): Promise<void> {
  const response = await setPolicy(server, uri, scope, body);
  assert.equal(response.status, 200, await response.clone().text());
}

forEachStore('scope policies', (fixture) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(fixture);
    await createUser(server, 'ada@example.com');
  });
  after(() => server.close());

  /** A resource, an agent allowed its scopes and a confidential application allowed them too. */
  async function setUp(scopes = ['calc', 'files:read', 'exec']) {
    const uri = freshResource();
    const agent = await registerAgentAndResource(server, { scopes, audiences: [uri] }, uri);
    const app = await createApp(server, { redirect_uris: [REDIRECT], scopes: [...scopes, 'offline_access'], grant_types: ['authorization_code', 'refresh_token'] });
    return { uri, agent, app };
  }

  const authorizeParams = (clientId: string, scope: string, resource: string) => ({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    state: 'st',
    scope,
    resource,
  });

  const clientCredentials = (agent: { clientId: string; clientSecret: string }, params: Record<string, string>) =>
    server.postForm('/token', { grant_type: 'client_credentials', ...params }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });

  test('POL-01 a low-risk `auto` scope needs no consent page; a default (user_consent) scope still does', async () => {
    const { uri, app } = await setUp();
    await mustSetPolicy(server, uri, 'calc', { policy: 'auto' });

    const { response, consentPage } = await authorizeInBrowser(server, new Browser(), authorizeParams(app.clientId, 'calc', uri));
    assert.equal(consentPage, undefined, 'no consent page was shown');
    assert.ok(redirectParams(response).get('code'), 'the code comes straight back');

    const asked = await authorizeInBrowser(server, new Browser(), authorizeParams(app.clientId, 'calc files:read', uri));
    assert.match(asked.consentPage ?? '', /files:read/, 'files:read (low risk, default user_consent) is asked for');
    assert.ok(redirectParams(asked.response).get('code'));

    const audit = (await (await server.admin('GET', '/audit?event=authorization.code_issued&order=desc&limit=5')).json()) as { events: { detail: Record<string, unknown> }[] };
    assert.ok(audit.events.some((e) => e.detail['consent'] === 'policy'), 'the code issued without consent says the policy decided');
  });

  test('POL-02 a `deny` scope is refused with a message naming the policy, in every grant', async () => {
    const { uri, agent, app } = await setUp();
    // A refresh token obtained before the policy changed: `exec` (high risk, an approver's by default) left to consent first.
    await mustSetPolicy(server, uri, 'exec', { policy: 'user_consent' });
    const code = await obtainCode(server, { clientId: app.clientId, clientSecret: app.clientSecret, scope: 'calc exec offline_access', resource: uri });
    const redeemed = (await (await redeemCode(server, { clientId: app.clientId, clientSecret: app.clientSecret, scope: '' }, code.code, code.verifier)).json()) as { refresh_token: string };
    assert.ok(redeemed.refresh_token);

    await mustSetPolicy(server, uri, 'exec', { policy: 'deny' });
    const naming = /scope exec is refused by policy deny \(v2\) of scope exec at https:\/\/policy-\d+\.example\.com\/mcp/;

    const cc = await clientCredentials(agent, { resource: uri, scope: 'calc exec' });
    assert.equal(cc.status, 400);
    const ccBody = (await cc.json()) as { error: string; error_description: string };
    assert.equal(ccBody.error, 'invalid_scope');
    assert.match(ccBody.error_description, naming);
    assert.equal((await clientCredentials(agent, { resource: uri, scope: 'calc' })).status, 200, 'the other scopes still work');

    const { response } = await authorizeInBrowser(server, new Browser(), authorizeParams(app.clientId, 'calc exec', uri));
    const back = redirectParams(response);
    assert.equal(back.get('error'), 'access_denied');
    assert.match(back.get('error_description')!, naming);

    const refresh = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: redeemed.refresh_token }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
    assert.equal(refresh.status, 400);
    const refreshBody = (await refresh.json()) as { error: string; error_description: string };
    assert.equal(refreshBody.error, 'invalid_scope');
    assert.match(refreshBody.error_description, naming);
    const narrowed = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: redeemed.refresh_token, scope: 'calc' }, { authorization: basicAuth(app.clientId, app.clientSecret!) });
    assert.equal(narrowed.status, 200, 'a refresh without the denied scope works (and the refused one rotated nothing)');
  });

  test('POL-03 a `role_required` scope: refused without the role (and for a client alone), granted with it', async () => {
    const { uri, agent, app } = await setUp();
    await mustSetPolicy(server, uri, 'exec', { policy: 'role_required', role: 'operator' });
    const email = `role-${counter}@example.com`;
    const userId = await createUser(server, email);

    const refused = await authorizeInBrowser(server, new Browser(), authorizeParams(app.clientId, 'exec', uri), { email });
    const back = redirectParams(refused.response);
    assert.equal(back.get('error'), 'access_denied');
    assert.match(back.get('error_description')!, /policy role_required \(v1\) of scope exec .*: the user lacks role operator/);

    const cc = await clientCredentials(agent, { resource: uri, scope: 'exec' });
    assert.equal(cc.status, 400);
    assert.match(((await cc.json()) as { error_description: string }).error_description, /needs a user with role operator/);

    assert.equal((await server.admin('PATCH', `/users/${userId}`, { roles: ['operator'] })).status, 200);
    const granted = await authorizeInBrowser(server, new Browser(), authorizeParams(app.clientId, 'exec', uri), { email });
    assert.ok(granted.consentPage, 'with the role the user is asked for consent');
    assert.ok(redirectParams(granted.response).get('code'));
  });

  test('POL-04 conditions: which clients, the longest token lifetime, the time window (injected clock), the chain depth', async () => {
    const { uri, agent } = await setUp();
    const other = await registerAgentAndResource(server, { scopes: ['calc', 'files:read'], audiences: [uri] }, uri);

    await mustSetPolicy(server, uri, 'calc', { policy: 'auto', conditions: { clients: [agent.clientId], max_token_lifetime_seconds: 120 } });
    const ok = await clientCredentials(agent, { resource: uri, scope: 'calc' });
    assert.equal(ok.status, 200);
    const token = (await ok.json()) as { access_token: string; expires_in: number };
    assert.equal(token.expires_in, 120);
    const claims = decodeJwt(token.access_token).payload;
    assert.equal((claims['exp'] as number) - (claims['iat'] as number), 120);
    const notListed = await clientCredentials(other, { resource: uri, scope: 'calc' });
    assert.equal(notListed.status, 400);
    assert.match(((await notListed.json()) as { error_description: string }).error_description, /not for this client or agent/);

    // A window that holds now, then one that does not (the server's clock is the test's).
    const minute = Math.floor((server.clock.now() % 86_400) / 60);
    const hhmm = (m: number) => `${String(Math.floor((((m % 1440) + 1440) % 1440) / 60)).padStart(2, '0')}:${String((((m % 1440) + 1440) % 1440) % 60).padStart(2, '0')}`;
    await mustSetPolicy(server, uri, 'files:read', { policy: 'user_consent', conditions: { time_window: { from: hhmm(minute - 5), to: hhmm(minute + 30) } } });
    assert.equal((await clientCredentials(agent, { resource: uri, scope: 'files:read' })).status, 200);
    server.clock.advance(3600);
    const late = await clientCredentials(agent, { resource: uri, scope: 'files:read' });
    assert.equal(late.status, 400);
    assert.match(((await late.json()) as { error_description: string }).error_description, /only between .* UTC/);
    server.clock.advance(-3600);

    // Chain depth: a user's grant to an application acting through an agent puts one actor in `act`; 0 refuses it.
    await mustSetPolicy(server, uri, 'files:read', { policy: 'user_consent', conditions: { max_chain_depth: 0 } });
    const app = await createApp(server, { redirect_uris: [REDIRECT], scopes: ['files:read'] });
    const viaAgent = await authorizeInBrowser(server, new Browser(), { ...authorizeParams(app.clientId, 'files:read', uri), requested_actor: agent.clientId });
    const refused = redirectParams(viaAgent.response);
    assert.equal(refused.get('error'), 'access_denied');
    assert.match(refused.get('error_description')!, /delegation chain of 1 exceeds 0/);
    const direct = await authorizeInBrowser(server, new Browser(), authorizeParams(app.clientId, 'files:read', uri));
    assert.ok(redirectParams(direct.response).get('code'), 'the application alone (no actor) is within the limit');
  });

  test('POL-05 policies are data: read with defaults, versioned, audited, validated, kept across a scope list edit', async () => {
    const { uri } = await setUp();
    const id = await resourceId(server, uri);
    const initial = (await (await server.admin('GET', `/resources/${id}/policies`)).json()) as { policies: { scope: string; policy: string; source: string; version: number }[]; defaults: Record<string, string> };
    assert.deepEqual(initial.defaults, { low: 'user_consent', medium: 'user_consent', high: 'admin_approval', critical: 'admin_approval' });
    assert.deepEqual(initial.policies.find((p) => p.scope === 'exec'), { scope: 'exec', risk: 'high', policy: 'admin_approval', approver: 'approvers', version: 0, source: 'default' });

    await mustSetPolicy(server, uri, 'exec', { policy: 'admin_approval', risk: 'critical' });
    await mustSetPolicy(server, uri, 'exec', { policy: 'deny' });
    const versions = (await (await server.admin('GET', `/resources/${id}/policies/exec/versions`)).json()) as { versions: { version: number; policy: string; risk: string; changed_by: string }[] };
    assert.deepEqual(versions.versions.map((v) => [v.version, v.policy, v.risk]), [[1, 'admin_approval', 'critical'], [2, 'deny', 'critical']]);
    assert.match(versions.versions[0]!.changed_by, /^admin:/);

    const audit = (await (await server.admin('GET', '/audit?event=scope_policy.updated&order=desc&limit=1')).json()) as { events: { subject: string; detail: Record<string, unknown> }[] };
    assert.equal(audit.events[0]!.subject, uri);
    assert.deepEqual([audit.events[0]!.detail['scope'], audit.events[0]!.detail['version'], audit.events[0]!.detail['policy'], audit.events[0]!.detail['previous']], ['exec', 2, 'deny', 'admin_approval']);

    for (const [body, field] of [
      [{ policy: 'sometimes' }, 'policy'],
      [{ policy: 'role_required' }, 'role'],
      [{ policy: 'auto', role: 'x' }, 'role'],
      [{ policy: 'auto', conditions: { time_window: { from: '25:00', to: '01:00' } } }, 'conditions.time_window.from'],
      [{ policy: 'admin_approval', approver: 'someone' }, 'approver'],
      [{ policy: 'auto', approver: 'user' }, 'approver'],
      [{ policy: 'auto', surprise: 'someone' }, '(body)'],
    ] as const) {
      const response = await setPolicy(server, uri, 'exec', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(JSON.stringify(await response.json()).includes(field), field);
    }
    assert.equal((await setPolicy(server, uri, 'no-such-scope', { policy: 'auto' })).status, 404);

    // Editing the scope list keeps the policy of a scope kept by name.
    assert.equal((await server.admin('PATCH', `/resources/${id}`, { scopes: ['calc', { name: 'exec', risk: 'critical' }] })).status, 200);
    const after = (await (await server.admin('GET', `/resources/${id}/policies`)).json()) as { policies: { scope: string; policy: string; version: number }[] };
    assert.deepEqual(after.policies.map((p) => [p.scope, p.policy, p.version]), [['calc', 'user_consent', 0], ['exec', 'deny', 2]]);
  });

  test('POL-06 a `critical` scope defaults to admin_approval: refused until an approver decides (item 2)', async () => {
    const uri = freshResource();
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', { name: 'wire', risk: 'critical' }] });
    assert.equal(created.status, 201);
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'wire'], audiences: [uri] }, uri);
    const cc = await clientCredentials(agent, { resource: uri, scope: 'wire' });
    assert.equal(cc.status, 400);
    assert.match(((await cc.json()) as { error_description: string }).error_description, /scope wire needs an approver's approval \(policy admin_approval \(v0\)/);
  });
});
