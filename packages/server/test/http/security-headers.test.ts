import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * RFC 9700 §4.2 and §4.16 over real HTTP (docs/security.md, BCP-12, BCP-16): no response lets a URL leak through
 * the Referer header, none is sniffed as another type, and no page can be framed. Token responses are never cached.
 */
forEachStore('security headers', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string };
  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
  });
  after(() => server.close());

  const requests = (): [string, () => Promise<Response>][] => [
    ['login page', () => fetch(`${server.issuer}/login`)],
    ['authorization error page', () => fetch(`${server.issuer}/authorize?client_id=app_unknown&response_type=code`)],
    ['authorization metadata', () => fetch(`${server.issuer}/.well-known/oauth-authorization-server`)],
    ['JWKS', () => fetch(`${server.issuer}/jwks.json`)],
    ['token (success)', () => server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) })],
    ['token (refusal)', () => server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, 'wrong') })],
    ['admin API without credentials', () => fetch(`${server.issuer}/admin/v1/agents`)],
    ['unknown path', () => fetch(`${server.issuer}/no-such-path`)],
    ['health', () => fetch(`${server.issuer}/healthz`)],
  ];

  test('BCP-12 every response says Referrer-Policy: no-referrer and nosniff, refusals and unknown paths included', async () => {
    for (const [name, send] of requests()) {
      const response = await send();
      await response.arrayBuffer();
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', name);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', name);
    }
  });

  test('BCP-16 pages cannot be framed (frame-ancestors none); token responses are never stored', async () => {
    for (const path of ['/login', '/authorize?client_id=app_unknown&response_type=code']) {
      const response = await fetch(`${server.issuer}${path}`);
      await response.arrayBuffer();
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    }
    for (const secret of [agent.clientSecret, 'wrong']) {
      const response = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, secret) });
      await response.arrayBuffer();
      assert.equal(response.headers.get('cache-control'), 'no-store', `token response (${secret === 'wrong' ? 'refusal' : 'success'})`);
    }
  });
});
