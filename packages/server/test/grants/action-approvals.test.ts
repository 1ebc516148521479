import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { argumentsSha256 } from '@mandate/protocol';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser } from '../helpers/user-flow.ts';

/**
 * Per-action approvals (issue 12 item 4) over real HTTP: RFC 9396 `authorization_details` of type `mcp_tool` on
 * the CIBA request and the client-credentials token request; an approver approves the one call; the token carries
 * it (RAR-06), lives briefly, targets only the MCP server, and is spent by its first recorded use (`/action-uses`).
 */

const CIBA = 'urn:openid:params:grant-type:ciba';
let counter = 0;

interface Approval {
  id: string;
  status: string;
  justification: string | null;
  risk: string;
  authorization_details?: { type: string; tool: string; arguments_sha256: string; locations: string[] }[];
}

forEachStore('per-action approvals (RFC 9396 mcp_tool)', (fixture) => {
  let server: TestServer;
  let approverToken: string;
  let userId: string;

  const asApprover = (method: string, path: string, body?: unknown) =>
    fetch(`${server.issuer}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${approverToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    server = await startTestServer(fixture);
    userId = await createUser(server, 'action-user@example.com');
    await createUser(server, 'action-approver@example.com', { roles: ['approver'] });
    const minted = await server.admin('POST', '/admin-tokens', { name: 'approver', role: 'approver', user: 'action-approver@example.com' });
    approverToken = ((await minted.json()) as { token: string }).token;
  });
  after(() => server.close());

  /** A fresh MCP resource with `run_command` marked for per-action approval, and an agent allowed `exec` on it. */
  async function setUp() {
    const uri = `https://actions-${++counter}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'exec'], audiences: [uri] }, uri);
    const resourceId = ((await (await server.admin('GET', `/resources`)).json()) as { resources: { id: string; resource: string }[] }).resources.find((r) => r.resource === uri)!.id;
    const marked = await server.admin('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: true, risk: 'high' });
    assert.equal(marked.status, 200, await marked.clone().text());
    const as = (path: string, params: Record<string, string>) => server.postForm(path, params, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const detail = (args: unknown, extra: Record<string, unknown> = {}) => JSON.stringify([{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256(args), locations: [uri], ...extra }]);
    const ask = (details: string, params: Record<string, string> = {}) =>
      as('/bc-authorize', { scope: 'openid exec', login_hint: 'action-user@example.com', binding_message: `run-${counter}`, authorization_details: details, ...params });
    const useAction = (token: string, tool: string, args: unknown, apiKey = agent.apiKey) =>
      fetch(`${server.issuer}/action-uses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token, tool, arguments_sha256: argumentsSha256(args) }),
      });
    return { uri, agent, resourceId, as, detail, ask, useAction };
  }

  const errorOf = async (response: Response, status = 400) => {
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(response.status, status, JSON.stringify(body));
    return body;
  };

  async function pendingFor(binding: string): Promise<Approval> {
    const list = (await (await asApprover('GET', '/approvals?status=pending')).json()) as { approvals: Approval[] };
    return list.approvals.find((a) => a.justification === binding)!;
  }

  test('RFC 9396 §10 metadata: authorization_details_types_supported, and the resource-server endpoints', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.deepEqual(metadata['authorization_details_types_supported'], ['mcp_tool']);
    assert.equal(metadata['action_uses_endpoint'], `${server.issuer}/action-uses`);
    assert.equal(metadata['tool_calls_endpoint'], `${server.issuer}/tool-calls`);
  });

  test('RAR-01..05 an unknown type, an unknown member, a member of the wrong type, a bad value, a missing member → invalid_authorization_details', async () => {
    const { ask, uri } = await setUp();
    const cases: [string, unknown, RegExp][] = [
      ['RAR-01 unknown type', [{ type: 'payment_initiation', tool: 'run_command' }], /not supported/],
      ['RAR-02 unknown member', [{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256({}), locations: [uri], amount: 5 }], /unknown member amount/],
      ['RAR-03 wrong type of member', [{ type: 'mcp_tool', tool: 42, arguments_sha256: argumentsSha256({}), locations: [uri] }], /tool/],
      ['RAR-04 invalid value', [{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: 'not-a-hash', locations: [uri] }], /arguments_sha256/],
      ['RAR-05 missing member', [{ type: 'mcp_tool', tool: 'run_command', locations: [uri] }], /arguments_sha256/],
      ['not JSON', 'run_command', /JSON array/],
      ['not an array of objects', ['mcp_tool'], /must be an object/],
    ];
    for (const [label, details, message] of cases) {
      const body = await errorOf(await ask(typeof details === 'string' ? details : JSON.stringify(details)));
      assert.equal(body.error, 'invalid_authorization_details', label);
      assert.match(body.error_description, message, label);
    }
  });

  test('a plain (not pushed) browser authorization request refuses authorization_details rather than ignoring them; a malformed one gets its precise error', async () => {
    const { detail } = await setUp();
    const app = await createApp(server, { public: true });
    const authorize = async (details: string) => {
      const query = new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: 'https://app.example.com/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'st', authorization_details: details });
      const response = await fetch(`${server.issuer}/authorize?${query}`, { redirect: 'manual' });
      const location = new URL(response.headers.get('location')!);
      return { error: location.searchParams.get('error'), description: location.searchParams.get('error_description') ?? '', state: location.searchParams.get('state') };
    };
    const refused = await authorize(detail({}));
    assert.deepEqual([refused.error, refused.state], ['invalid_authorization_details', 'st']);
    assert.match(refused.description, /CIBA/);
    assert.match((await authorize('[{"type":"payment"}]')).description, /not supported/, 'RAR-01 at the authorization endpoint');
  });

  test('a tool not marked for per-action approval is refused, naming the tool and how to mark it', async () => {
    const { ask, uri } = await setUp();
    const body = await errorOf(await ask(JSON.stringify([{ type: 'mcp_tool', tool: 'delete_everything', arguments_sha256: argumentsSha256({}), locations: [uri] }])));
    assert.equal(body.error, 'invalid_authorization_details');
    assert.match(body.error_description, /tool delete_everything at https:\/\/actions-\d+\.example\.com\/mcp does not take per-action approvals/);
  });

  test('RAR-06 an approver approves one run_command call over CIBA: the token carries exactly it, short-lived, for the MCP server only; its first use is recorded, the second refused', async () => {
    const { uri, agent, ask, as, useAction, detail } = await setUp();
    const args = { command: 'ls -la', cwd: '/tmp' };
    const started = await ask(detail(args));
    assert.equal(started.status, 200, await started.clone().text());
    const { auth_req_id } = (await started.json()) as { auth_req_id: string };

    const pending = await pendingFor(`run-${counter}`);
    assert.equal(pending.risk, 'high', "the tool's risk");
    assert.deepEqual(pending.authorization_details, [{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256(args), locations: [uri] }]);
    assert.equal((await asApprover('POST', `/approvals/${pending.id}/decision`, { decision: 'approve', reason: 'one listing is fine' })).status, 200);

    const poll = (params: Record<string, string> = {}) => as('/token', { grant_type: CIBA, auth_req_id, ...params });
    server.clock.advance(6);
    const more = await errorOf(await poll({ authorization_details: detail({ command: 'rm -rf /' }) }));
    assert.equal(more.error, 'invalid_authorization_details', 'RAR-07 a token request for more than was approved');
    const granted = await poll();
    assert.equal(granted.status, 200, await granted.clone().text());
    const tokens = (await granted.json()) as { access_token: string; expires_in: number; refresh_token?: string; authorization_details: unknown[] };
    assert.deepEqual(tokens.authorization_details, pending.authorization_details, 'RFC 9396 §7: the response echoes the granted details');
    assert.ok(tokens.expires_in <= 300, 'short-lived');
    assert.equal(tokens.refresh_token, undefined);
    const claims = decodeJwt(tokens.access_token).payload;
    assert.equal(claims['sub'], userId);
    assert.equal(claims['aud'], uri, 'the MCP server alone');
    assert.deepEqual(claims['authorization_details'], pending.authorization_details);

    const introspect = () => fetch(`${server.issuer}/introspect`, { method: 'POST', headers: { authorization: `Bearer ${agent.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token }) });
    const before = (await (await introspect()).json()) as { active: boolean; authorization_details?: unknown };
    assert.equal(before.active, true);
    assert.deepEqual(before.authorization_details, pending.authorization_details, 'RFC 9396 §9.2 introspection member');

    const mismatch = await errorOf(await useAction(tokens.access_token, 'run_command', { command: 'rm -rf /', cwd: '/tmp' }), 403);
    assert.equal(mismatch.error, 'action_mismatch');
    assert.match(mismatch.error_description, /other arguments/);
    assert.equal((await errorOf(await useAction(tokens.access_token, 'read_file', args), 403)).error, 'action_mismatch');

    const reordered = { cwd: '/tmp', command: 'ls -la' };
    const first = await useAction(tokens.access_token, 'run_command', reordered);
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal(((await first.json()) as { jti: string }).jti, claims['jti']);
    const second = await errorOf(await useAction(tokens.access_token, 'run_command', args), 409);
    assert.equal(second.error, 'action_token_used');
    assert.equal(((await (await introspect()).json()) as { active: boolean }).active, false, 'a spent action token reads as inactive');

    await server.context.audit.flush();
    const rows = (await (await server.admin('GET', `/audit?event=action.*&principal=${encodeURIComponent(uri)}`)).json()) as { events: { event: string; detail: Record<string, unknown> }[] };
    assert.deepEqual(rows.events.map((e) => e.event), ['action.reuse_refused', 'action.used']);
  });

  test('exactly once across instances: the same token’s use reported to two servers on one database at once → one 200, the others 409', async () => {
    const { as, detail, agent } = await setUp();
    const args = { command: 'whoami' };
    const ask = () => as('/token', { grant_type: 'client_credentials', scope: 'exec', authorization_details: detail(args), justification: `race-${counter}` });
    await ask();
    const pending = await pendingFor(`race-${counter}`);
    assert.equal((await asApprover('POST', `/approvals/${pending.id}/decision`, { decision: 'approve' })).status, 200);
    const token = ((await (await ask()).json()) as { access_token: string }).access_token;
    // A second instance behind the same issuer (as behind a load balancer), on the same database and clock.
    const second = await startTestServer(fixture, { issuer: server.issuer });
    second.clock.advance((server.clock.nowMs() - second.clock.nowMs()) / 1000);
    const secondUrl = `http://127.0.0.1:${second.port}`;
    try {
      const use = (base: string) =>
        fetch(`${base}/action-uses`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agent.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ token, tool: 'run_command', arguments_sha256: argumentsSha256(args) }),
        });
      const statuses = (await Promise.all([use(server.issuer), use(secondUrl), use(server.issuer), use(secondUrl)])).map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409, 409, 409]);
    } finally {
      await second.close();
    }
  });

  test('/action-uses: no or a wrong API key → 401; another resource’s key → 403; a token without details → 403', async () => {
    const { uri, useAction, agent } = await setUp();
    assert.equal((await useAction('x', 'run_command', {}, 'mrk_nope.nope')).status, 401);
    const other = await setUp();
    const own = await server.postForm('/token', { grant_type: 'client_credentials', resource: uri, scope: 'calc' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    const plain = ((await own.json()) as { access_token: string }).access_token;
    assert.equal((await errorOf(await useAction(plain, 'run_command', {}), 403)).error, 'action_mismatch');
    assert.equal((await errorOf(await useAction(plain, 'run_command', {}, other.agent.apiKey), 403)).error, 'action_mismatch');
    assert.equal((await errorOf(await useAction('not-a-token', 'run_command', {}), 401)).error, 'invalid_token');
    const bad = await fetch(`${server.issuer}/action-uses`, { method: 'POST', headers: { authorization: `Bearer ${agent.apiKey}`, 'content-type': 'application/json' }, body: '{"token":"x"}' });
    assert.equal((await errorOf(bad)).error, 'invalid_request');
  });

  test('client_credentials with an mcp_tool detail waits in the approval queue; once approved, the same request gets one single-use token', async () => {
    const { uri, as, detail, useAction, agent } = await setUp();
    const args = { command: 'uptime' };
    const ask = () => as('/token', { grant_type: 'client_credentials', scope: 'exec', authorization_details: detail(args), justification: `cc-${counter}` });
    const waiting = await errorOf(await ask());
    assert.equal(waiting.error, 'invalid_scope');
    assert.match(waiting.error_description, /approval request apr_\S+ was created/);
    assert.match((await errorOf(await ask())).error_description, /is pending/);
    const pending = await pendingFor(`cc-${counter}`);
    assert.equal(pending.authorization_details?.[0]?.tool, 'run_command');
    assert.equal((await asApprover('POST', `/approvals/${pending.id}/decision`, { decision: 'approve' })).status, 200);

    const granted = await ask();
    assert.equal(granted.status, 200, await granted.clone().text());
    const body = (await granted.json()) as { access_token: string; authorization_details: unknown[]; expires_in: number };
    assert.deepEqual(body.authorization_details, [{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256(args), locations: [uri] }]);
    assert.equal(decodeJwt(body.access_token).payload['aud'], uri);
    assert.ok(body.expires_in <= 300);
    assert.match((await errorOf(await ask())).error_description, /was created/, 'the approval yielded one token; asking again asks again');
    const exchanged = await as('/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: body.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      actor_token: await actorToken(server, agent),
      actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: uri,
    });
    assert.match((await errorOf(exchanged)).error_description, /action token .* never exchanged/, 'exchanging it would make a general token of it');
    assert.equal((await useAction(body.access_token, 'run_command', args)).status, 200);
    assert.equal((await useAction(body.access_token, 'run_command', args)).status, 409);
  });

  test('tool policies: admin API lists, sets and clears them (audited); an approver may not change them', async () => {
    const { resourceId, ask, detail } = await setUp();
    const listed = (await (await server.admin('GET', `/resources/${resourceId}/tools`)).json()) as { tools: { tool: string; per_action_approval: boolean; risk: string }[] };
    assert.deepEqual(listed.tools.map((t) => [t.tool, t.per_action_approval, t.risk]), [['run_command', true, 'high']]);
    assert.equal((await asApprover('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: false })).status, 403);
    const invalid = await server.admin('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: 'yes' });
    assert.equal(invalid.status, 400);
    assert.equal((await server.admin('DELETE', `/resources/${resourceId}/tools/run_command`)).status, 204);
    assert.equal((await errorOf(await ask(detail({})))).error, 'invalid_authorization_details', 'no longer takes per-action approvals');
    assert.equal((await server.admin('DELETE', `/resources/${resourceId}/tools/run_command`)).status, 404);
    await server.context.audit.flush();
    const rows = (await (await server.admin('GET', `/audit?event=tool_policy.*&limit=2`)).json()) as { events: { event: string; detail: { tool: string } }[] };
    assert.deepEqual(rows.events.map((e) => [e.event, e.detail.tool]), [['tool_policy.deleted', 'run_command'], ['tool_policy.updated', 'run_command']]);
  });
});
