import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MCP_RESOURCE, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('admin API', (fixture) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  test('deny by default: every registered management route answers 401 without credentials, and with a wrong or revoked token', async () => {
    const routes = server.app.routeTable;
    // The admin API is /admin/v1/; the rest of /admin is the console, pages behind a user's login and role.
    const management = routes.filter((r) => r.url.startsWith('/admin/v1/'));
    assert.ok(management.length >= 15, `expected the admin API, found ${management.length} routes`);
    for (const route of routes) {
      // Nothing under /admin/v1 may be reachable without the admin guard; the console's pages are `browser` routes.
      if (route.url.startsWith('/admin/v1/')) assert.equal(route.access, 'admin', `${route.method} ${route.url}`);
      else if (route.url === '/admin' || route.url.startsWith('/admin/')) assert.equal(route.access, 'browser', `${route.method} ${route.url}`);
      else assert.notEqual(route.access, 'admin', `${route.method} ${route.url} is admin-only but outside /admin/v1/`);
    }

    const created = await server.admin('POST', '/admin-tokens', { name: 'short-lived' });
    assert.equal(created.status, 201);
    const { token: revokedToken, id: revokedId } = (await created.json()) as { token: string; id: string };
    assert.equal((await server.admin('DELETE', `/admin-tokens/${revokedId}`)).status, 204);

    for (const route of management) {
      const url = `${server.issuer}${route.url.replace(/:[a-z_]+/g, 'x')}`;
      const init = (authorization?: string): RequestInit => ({
        method: route.method,
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
      });
      const anonymous = await fetch(url, init());
      assert.equal(anonymous.status, 401, `${route.method} ${route.url}`);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="mandate-admin"');
      assert.match(anonymous.headers.get('content-type') ?? '', /^application\/problem\+json/);
      for (const credential of [`Bearer ${server.adminToken.slice(0, -3)}abc`, 'Bearer mad_x.y', `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${revokedToken}`]) {
        assert.equal((await fetch(url, init(credential))).status, 401, `${route.method} ${route.url} with ${credential.slice(0, 12)}…`);
      }
    }
  });

  test('agents: create, read, update, disable, rotate, delete; problem+json for bad input and unknown ids', async () => {
    // An agent's audiences must be registered resources (SR-14).
    assert.ok([201, 409].includes((await server.admin('POST', '/resources', { resource: MCP_RESOURCE, scopes: ['calc', 'files:read'] })).status));
    const created = await server.admin('POST', '/agents', { name: 'crud', scopes: ['calc'], audiences: [MCP_RESOURCE], owner: 'ana@example.com' });
    assert.equal(created.status, 201);
    const agent = (await created.json()) as Record<string, unknown>;
    assert.match(agent['client_id'] as string, /^agt_/);
    assert.match(agent['client_secret'] as string, /^[A-Za-z0-9_-]{43}$/);
    const id = agent['client_id'] as string;

    const shown = (await (await server.admin('GET', `/agents/${id}`)).json()) as Record<string, unknown>;
    assert.equal(shown['client_secret'], undefined, 'the secret is shown once, at creation');
    assert.equal(shown['owner'], 'ana@example.com');
    const listed = (await (await server.admin('GET', '/agents')).json()) as { agents: { client_id: string }[] };
    assert.ok(listed.agents.some((a) => a.client_id === id));

    const patched = await server.admin('PATCH', `/agents/${id}`, { scopes: ['calc', 'files:read'], description: 'does sums' });
    assert.deepEqual(((await patched.json()) as { scopes: string[] }).scopes, ['calc', 'files:read']);

    const invalid = await server.admin('POST', '/agents', { name: '', scopes: ['bad scope"'], audiences: ['not a url'], extra: 1 });
    assert.equal(invalid.status, 400);
    assert.match(invalid.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = (await invalid.json()) as { type: string; status: number; errors: { path: string }[] };
    assert.equal(problem.type, 'urn:mandate:problem:invalid-request');
    assert.deepEqual(problem.errors.map((e) => e.path).sort(), ['(body)', 'audiences.0', 'name', 'scopes.0'].sort());

    const badJson = await fetch(`${server.issuer}/admin/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    assert.equal(badJson.status, 400);
    assert.match(badJson.headers.get('content-type') ?? '', /^application\/problem\+json/);

    assert.equal((await server.admin('POST', `/agents/${id}/disable`)).status, 200);
    const rotated = (await (await server.admin('POST', `/agents/${id}/rotate-secret`)).json()) as Record<string, unknown>;
    assert.notEqual(rotated['client_secret'], agent['client_secret']);
    assert.equal((await server.admin('DELETE', `/agents/${id}`)).status, 204);
    const gone = await server.admin('GET', `/agents/${id}`);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { type: string }).type, 'urn:mandate:problem:not-found');
  });

  test('resources: duplicate URI → 409; API key shown once; rotate-key replaces it', async () => {
    const first = await server.admin('POST', '/resources', { resource: 'https://api.example.com/v1', scopes: ['read', { name: 'delete', risk: 'high', description: 'deletes things' }] });
    assert.equal(first.status, 201);
    const resource = (await first.json()) as { id: string; api_key: string; scopes: { name: string; risk: string }[] };
    assert.match(resource.api_key, /^mrk_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(resource.scopes.map((s) => [s.name, s.risk]), [['read', 'low'], ['delete', 'high']]);
    assert.equal((await server.admin('POST', '/resources', { resource: 'HTTPS://API.example.com/v1' })).status, 409);
    const shown = (await (await server.admin('GET', `/resources/${resource.id}`)).json()) as Record<string, unknown>;
    assert.equal(shown['api_key'], undefined);
    const rotated = (await (await server.admin('POST', `/resources/${resource.id}/rotate-key`)).json()) as { api_key: string };
    assert.notEqual(rotated.api_key, resource.api_key);
  });
});
