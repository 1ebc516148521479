import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { FileClientRegistrationStore, headlessBrowser, McpOAuthClientProvider, MemoryClientRegistrationStore } from '../../src/mcp/client/index.ts';
import type { McpOAuthClientOptions } from '../../src/mcp/client/index.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

type Answer = { status: number; body?: unknown };

/** A small HTTP server whose answers the test programs per path; it records the JSON bodies posted to it. */
async function startProgrammable() {
  let routes: Record<string, Answer | ((body: unknown) => Answer)> = {};
  const posted: { path: string; body: unknown }[] = [];
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: unknown;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString() || 'null');
      posted.push({ path, body });
    }
    const route = routes[path];
    const answer = typeof route === 'function' ? route(body) : (route ?? { status: 404, body: { error: 'not_found' } });
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    posted,
    program(next: typeof routes) {
      routes = next;
      posted.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The provider driven by the MCP SDK's own `auth()` (as its transports drive it), against the SDK's fixture AS and a
 * programmed MCP server: what the conformance suite does not reach (registration failures, the priority of client
 * identities, the retry limit without the transport's own guard, an application's redirect URI).
 */
describe('McpOAuthClientProvider under the MCP SDK’s auth()', () => {
  let as: TestIssuer;
  let rs: Awaited<ReturnType<typeof startProgrammable>>;
  let registrar: Awaited<ReturnType<typeof startProgrammable>>;
  let serverUrl: string;
  const providers: McpOAuthClientProvider[] = [];
  before(async () => {
    as = await startTestIssuer();
    rs = await startProgrammable();
    registrar = await startProgrammable();
    serverUrl = `${rs.origin}/mcp`;
  });
  after(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await Promise.all([as.close(), rs.close(), registrar.close()]);
  });
  beforeEach(() => {
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: serverUrl, authorization_servers: [as.issuer], scopes_supported: ['calc', 'files:read'] } } });
    registrar.program({ '/register': { status: 201, body: { client_id: 'dyn_1', token_endpoint_auth_method: 'none' } } });
    as.setMetadataExtra({
      registration_endpoint: `${registrar.origin}/register`,
      scopes_supported: ['calc', 'files:read', 'offline_access'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  /** A started provider that records the authorization URLs it is asked to show, and opens none. */
  async function provider(extra: Partial<McpOAuthClientOptions> = {}) {
    const shown: URL[] = [];
    const created = await McpOAuthClientProvider.create({ serverUrl, onAuthorizationUrl: (url) => void shown.push(url), ...extra });
    providers.push(created);
    return { provider: created, shown };
  }

  test('DCR-03 no credentials, no CIMD support: RFC 7591 registration as a native public client with the refresh_token grant; kept per issuer', async () => {
    const registrations = new MemoryClientRegistrationStore();
    const { provider: p, shown } = await provider({ clientName: 'Notes', registrationStore: registrations });
    assert.equal(await auth(p, { serverUrl }), 'REDIRECT');
    assert.deepEqual(registrar.posted, [
      {
        path: '/register',
        body: {
          client_name: 'Notes',
          redirect_uris: [p.redirectUrl],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          application_type: 'native',
          scope: 'calc files:read offline_access',
        },
      },
    ]);
    assert.equal((await registrations.get(as.issuer))?.clientId, 'dyn_1');
    const params = shown[0]!.searchParams;
    assert.equal(params.get('client_id'), 'dyn_1');
    assert.equal(params.get('scope'), 'calc files:read offline_access', 'PRM scopes, and offline_access because the AS lists it');
    assert.deepEqual(params.getAll('resource'), [serverUrl]);
    assert.equal(await auth(p, { serverUrl }), 'REDIRECT');
    assert.equal(registrar.posted.length, 1, 'registered once for this issuer');
  });

  test('DCR-03 a FileClientRegistrationStore keeps the registration across runs: a second provider on the file registers nothing; the file is private', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-registrations-'));
    try {
      const path = join(dir, 'registrations.json');
      registrar.program({ '/register': { status: 201, body: { client_id: 'dyn_file', token_endpoint_auth_method: 'none', registration_access_token: 'rat_1', registration_client_uri: `${registrar.origin}/register/dyn_file` } } });
      const first = await provider({ registrationStore: new FileClientRegistrationStore(path) });
      assert.equal(await auth(first.provider, { serverUrl }), 'REDIRECT');
      assert.equal(registrar.posted.length, 1);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const stored = await new FileClientRegistrationStore(path).get(as.issuer);
      assert.deepEqual(stored, { issuer: as.issuer, clientId: 'dyn_file', kind: 'dynamic', tokenEndpointAuthMethod: 'none', registrationAccessToken: 'rat_1', registrationClientUri: `${registrar.origin}/register/dyn_file` });

      const second = await provider({ registrationStore: new FileClientRegistrationStore(path) });
      assert.equal(await auth(second.provider, { serverUrl }), 'REDIRECT');
      assert.equal(registrar.posted.length, 1, 'the next run reuses the registration');
      assert.equal(second.shown[0]!.searchParams.get('client_id'), 'dyn_file');

      chmodSync(path, 0o644);
      await assert.rejects(new FileClientRegistrationStore(path).get(as.issuer), { code: 'ERR_TOKEN_STORE_INSECURE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('headlessBrowser(): follows the AS’s redirects to the loopback listener, which verifies the response; a page that needs a user is an error', async () => {
    const { provider: p, shown } = await provider({ client: { clientId: 'app_pre' } });
    await auth(p, { serverUrl });
    const url = shown[0]!;
    const state = url.searchParams.get('state')!;
    const waiting = p.waitForAuthorizationCode();
    // The user agent a test scripts: here, the answer a server that needs no user would give.
    await headlessBrowser({ userAgent: async () => `${p.redirectUrl}?code=c_headless&state=${state}&iss=${encodeURIComponent(as.issuer)}` })(url);
    assert.equal(await waiting, 'c_headless');
    rs.program({ '/page': { status: 200, body: {} } });
    await assert.rejects(headlessBrowser()(new URL(`${rs.origin}/page`)), /a user is needed there/);
  });

  test('a refused registration → ERR_REGISTRATION_FAILED with the RFC 7591 §3.2.2 error; nothing is shown', async () => {
    registrar.program({ '/register': { status: 400, body: { error: 'invalid_redirect_uri', error_description: 'loopback only' } } });
    const { provider: p, shown } = await provider();
    await assert.rejects(auth(p, { serverUrl }), { code: 'ERR_REGISTRATION_FAILED', status: 400, error: 'invalid_redirect_uri', errorDescription: 'loopback only' });
    assert.equal(shown.length, 0);
  });

  test('MCP-C-08 order: pre-registered credentials first; a Client ID Metadata Document before registration; credentials of another issuer are never shown', async () => {
    as.setMetadataExtra({ registration_endpoint: `${registrar.origin}/register`, client_id_metadata_document_supported: true });
    const cimd = 'https://app.example.com/oauth/client.json';
    const pre = await provider({ client: { clientId: 'app_pre' }, clientMetadataUrl: cimd });
    await auth(pre.provider, { serverUrl });
    assert.equal(pre.shown[0]!.searchParams.get('client_id'), 'app_pre');
    const viaDocument = await provider({ clientMetadataUrl: cimd });
    await auth(viaDocument.provider, { serverUrl });
    assert.equal(viaDocument.shown[0]!.searchParams.get('client_id'), cimd);
    assert.equal(registrar.posted.length, 0);
    const elsewhere = await provider({ client: { clientId: 'app_other_as', issuer: 'https://other-as.example.com' } });
    await auth(elsewhere.provider, { serverUrl });
    assert.equal(elsewhere.shown[0]!.searchParams.get('client_id'), 'dyn_1', 'registered here instead');
  });

  test('MCP-C-08 no pre-registration, no CIMD, no registration endpoint → ERR_CLIENT_UNIDENTIFIED', async () => {
    as.setMetadataExtra({ registration_endpoint: undefined });
    const { provider: p } = await provider({ clientMetadataUrl: 'https://app.example.com/oauth/client.json' });
    await assert.rejects(auth(p, { serverUrl }), { code: 'ERR_CLIENT_UNIDENTIFIED', issuer: as.issuer });
  });

  test('retry limit: a fourth authorization in a row for the same scopes → ERR_AUTHORIZATION_LIMIT, nothing shown; reset after a success', async () => {
    const { provider: p, shown } = await provider({ client: { clientId: 'app_pre' } });
    for (let i = 0; i < 3; i++) assert.equal(await auth(p, { serverUrl, scope: 'calc' }), 'REDIRECT');
    await assert.rejects(auth(p, { serverUrl, scope: 'calc' }), { code: 'ERR_AUTHORIZATION_LIMIT', attempts: 3 });
    assert.equal(shown.length, 3);
    assert.equal(await auth(p, { serverUrl, scope: 'calc files:read' }), 'REDIRECT', 'another scope set is another operation');
    p.resetAuthorizationAttempts();
    assert.equal(await auth(p, { serverUrl, scope: 'calc' }), 'REDIRECT');
  });

  test('ISS-02 an application redirect URI: handleCallback checks state and iss; a missing iss the AS advertises is refused and the waiter learns why', async () => {
    const { provider: p, shown } = await provider({ client: { clientId: 'app_web' }, redirect: { redirectUri: 'https://app.example.com/callback' } });
    assert.equal(p.redirectUrl, 'https://app.example.com/callback');
    assert.equal((p.clientMetadata as Record<string, unknown>)['application_type'], 'web');
    await auth(p, { serverUrl });
    const state = shown[0]!.searchParams.get('state')!;
    const waiting = p.waitForAuthorizationCode();
    assert.throws(() => p.handleCallback(`https://app.example.com/callback?code=c1&state=${state}`), { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH', reason: 'missing' });
    await assert.rejects(waiting, { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH' });
    assert.throws(() => p.handleCallback(`https://app.example.com/callback?code=c1&state=${state}&iss=${encodeURIComponent(as.issuer)}`), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' }, 'a state is used once');

    await auth(p, { serverUrl });
    const next = shown[1]!.searchParams.get('state')!;
    assert.equal(p.handleCallback(`https://app.example.com/callback?code=c2&state=${next}&iss=${encodeURIComponent(as.issuer)}`), 'c2');
    assert.equal(await p.waitForAuthorizationCode(), 'c2');
    assert.equal(p.codeVerifier().length, 43);
  });

  test('PRM-02 metadata named by the 401 must name the server URL itself, where the MCP SDK would accept its origin → ERR_RESOURCE_MISMATCH', async () => {
    rs.program({ '/custom.json': { status: 200, body: { resource: rs.origin, authorization_servers: [as.issuer] } } });
    const { provider: p, shown } = await provider({ client: { clientId: 'app_pre' } });
    await assert.rejects(auth(p, { serverUrl, resourceMetadataUrl: new URL(`${rs.origin}/custom.json`) }), { code: 'ERR_RESOURCE_MISMATCH', received: rs.origin });
    assert.equal(shown.length, 0);
  });

  test('MCP-C-05 an AS whose metadata lacks code_challenge_methods_supported → ERR_METADATA_INVALID before anything is sent to it', async () => {
    as.setMetadataExtra({ code_challenge_methods_supported: undefined, registration_endpoint: `${registrar.origin}/register` });
    const { provider: p, shown } = await provider();
    await assert.rejects(auth(p, { serverUrl }), { code: 'ERR_METADATA_INVALID', member: 'code_challenge_methods_supported' });
    assert.equal(registrar.posted.length, 0);
    assert.equal(shown.length, 0);
  });

  test('misuse is a TypeError: a bad server URL or metadata document URL, client credentials without a client, redirectUrl before start()', () => {
    assert.throws(() => new McpOAuthClientProvider({ serverUrl: 'not a url' }), TypeError);
    assert.throws(() => new McpOAuthClientProvider({ serverUrl, clientMetadataUrl: 'http://app.example.com/client.json' }), TypeError);
    assert.throws(() => new McpOAuthClientProvider({ serverUrl, grantType: 'client_credentials' }), TypeError);
    assert.throws(() => new McpOAuthClientProvider({ serverUrl }).redirectUrl, TypeError);
  });
});
