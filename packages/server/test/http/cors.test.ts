import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

const ORIGIN = 'https://browser-client.example';

/**
 * Issue 9 item 6 over real HTTP: the endpoints browser-based clients call answer cross-origin requests and their
 * preflights, with no credentials and exactly the headers those calls use; pages and the admin API never do.
 */
forEachStore('CORS', (fixture) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  const preflight = (path: string, method: string, headers = 'authorization, content-type') =>
    fetch(`${server.issuer}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': headers } });

  test('preflights of metadata, JWKS, token, revocation, registration and userinfo: 204, any origin, no credentials, exact methods and headers', async () => {
    const cases: [string, string, string][] = [
      ['/.well-known/oauth-authorization-server', 'GET', 'GET, OPTIONS'],
      ['/.well-known/openid-configuration', 'GET', 'GET, OPTIONS'],
      ['/jwks.json', 'GET', 'GET, OPTIONS'],
      ['/token', 'POST', 'POST, OPTIONS'],
      ['/revoke', 'POST', 'POST, OPTIONS'],
      ['/register', 'POST', 'POST, OPTIONS'],
      ['/register/app_x', 'PUT', 'GET, PUT, DELETE, OPTIONS'],
      ['/userinfo', 'GET', 'GET, POST, OPTIONS'],
    ];
    for (const [path, method, methods] of cases) {
      const response = await preflight(path, method);
      assert.equal(response.status, 204, path);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path);
      assert.equal(response.headers.get('access-control-allow-methods'), methods, path);
      assert.equal(response.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, DPoP, MCP-Protocol-Version', path);
      assert.equal(response.headers.get('access-control-allow-credentials'), null, path);
      assert.equal(response.headers.get('access-control-max-age'), '600', path);
    }
  });

  test('actual requests carry Access-Control-Allow-Origin: * and expose WWW-Authenticate, errors included; never credentials', async () => {
    const metadata = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, { headers: { origin: ORIGIN, 'mcp-protocol-version': '2025-11-25' } });
    assert.equal(metadata.status, 200);
    assert.equal(metadata.headers.get('access-control-allow-origin'), '*');
    const jwks = await fetch(`${server.issuer}/jwks.json`, { headers: { origin: ORIGIN } });
    assert.equal(jwks.headers.get('access-control-allow-origin'), '*');
    const refused = await server.postForm('/token', { grant_type: 'authorization_code', code: 'x', client_id: 'app_unknown' }, { origin: ORIGIN });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('access-control-allow-origin'), '*', 'a browser client must be able to read the error');
    assert.match(refused.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    assert.equal(refused.headers.get('access-control-allow-credentials'), null);
    const registration = await fetch(`${server.issuer}/register`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(registration.status, 400);
    assert.equal(registration.headers.get('access-control-allow-origin'), '*');
  });

  test('never on pages, the admin API, introspection or the authorization endpoint (BCP-09): no CORS headers, preflight not answered', async () => {
    for (const path of ['/authorize', '/login', '/account', '/admin/v1/clients', '/introspect', '/authorize/consent']) {
      const response = await preflight(path, 'GET');
      assert.notEqual(response.status, 204, path);
      assert.equal(response.headers.get('access-control-allow-origin'), null, path);
    }
    const page = await fetch(`${server.issuer}/login`, { headers: { origin: ORIGIN } });
    assert.equal(page.headers.get('access-control-allow-origin'), null);
    const admin = await server.admin('GET', '/clients');
    assert.equal(admin.status, 200);
    assert.equal(admin.headers.get('access-control-allow-origin'), null);
  });
});
