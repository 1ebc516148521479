import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { discoverResource } from '../../src/discovery/discover-resource.ts';
import { fetchProtectedResourceMetadata } from '../../src/discovery/protected-resource-metadata.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

type Answer = { status: number; headers?: Record<string, string>; body?: unknown };

/** A protected resource over real HTTP whose every answer the test programs; it records the paths asked for. */
async function startResource() {
  let routes: Record<string, Answer> = {};
  const requested: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requested.push(`${req.method} ${path}`);
    const answer = routes[`${req.method} ${path}`] ?? routes[path] ?? { status: 404, body: { error: 'not_found' } };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/mcp`,
    requested,
    program(next: Record<string, Answer>) {
      routes = next;
      requested.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('discoverResource: 401 → resource_metadata → RFC 9728 metadata → RFC 8414 metadata', () => {
  let as: TestIssuer;
  let tenant: TestIssuer;
  let rs: Awaited<ReturnType<typeof startResource>>;
  before(async () => {
    as = await startTestIssuer();
    tenant = await startTestIssuer({ path: '/tenant1' });
    rs = await startResource();
  });
  after(async () => {
    await Promise.all([as.close(), tenant.close(), rs.close()]);
  });

  const challenge401 = (params: string) => ({ status: 401, headers: { 'www-authenticate': `Bearer ${params}` }, body: { error: 'unauthorized' } });

  test('MCP-C-01 the metadata URL of the 401 challenge is used (not the well-known ones), with the challenge scope', async () => {
    rs.program({
      'GET /mcp': challenge401(`scope="calc files:read", resource_metadata="${rs.origin}/custom/prm.json"`),
      '/custom/prm.json': { status: 200, body: { resource: rs.url, authorization_servers: [as.issuer], scopes_supported: ['calc', 'files:read', 'files:write'] } },
    });
    const found = await discoverResource(rs.url);
    assert.equal(found.resource, rs.url);
    assert.equal(found.resourceMetadataUrl, `${rs.origin}/custom/prm.json`);
    assert.equal(found.issuer, as.issuer);
    assert.equal(found.authorizationServer.issuer, as.issuer);
    assert.equal(found.authorizationServer.token_endpoint, as.endpoints.token_endpoint);
    assert.deepEqual(found.challenge, { resourceMetadata: `${rs.origin}/custom/prm.json`, scope: ['calc', 'files:read'] });
    assert.deepEqual(rs.requested, ['GET /mcp', 'GET /custom/prm.json']);
  });

  test('PRM-01 without a challenge: the path-inserted URL first, then the root URL, whose resource is the origin', async () => {
    rs.program({
      'GET /mcp': { status: 405 },
      '/.well-known/oauth-protected-resource': { status: 200, body: { resource: rs.origin, authorization_servers: [as.issuer] } },
    });
    const found = await discoverResource(rs.url);
    assert.equal(found.resource, rs.origin, 'the resource to send is the one the metadata names');
    assert.equal(found.challenge, undefined);
    assert.deepEqual(rs.requested, ['GET /mcp', 'GET /.well-known/oauth-protected-resource/mcp', 'GET /.well-known/oauth-protected-resource']);
  });

  test('MCP-C-02 an issuer with a path: its metadata from the path-inserted RFC 8414 URL, issuer checked', async () => {
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: rs.url, authorization_servers: [tenant.issuer] } } });
    const found = await discoverResource(rs.url, { challenge: 'Bearer' });
    assert.equal(found.issuer, tenant.issuer);
    assert.equal(found.authorizationServer.issuer, tenant.issuer);
    assert.deepEqual(rs.requested, ['GET /.well-known/oauth-protected-resource/mcp'], 'a given challenge means no probe');
  });

  test('a POST probe for MCP servers, and a challenge given as a Response', async () => {
    rs.program({
      'POST /mcp': challenge401(`resource_metadata="${rs.origin}/.well-known/oauth-protected-resource/mcp"`),
      '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: rs.url, authorization_servers: [as.issuer] } },
    });
    const found = await discoverResource(rs.url, { probe: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } });
    assert.equal(found.issuer, as.issuer);
    const refusal = await fetch(rs.url, { method: 'POST' });
    assert.equal((await discoverResource(rs.url, { challenge: refusal })).resourceMetadataUrl, `${rs.origin}/.well-known/oauth-protected-resource/mcp`);
  });

  test('PRM-02 metadata named by the challenge must name the requested resource itself (RFC 9728 §3.3) → ERR_RESOURCE_MISMATCH', async () => {
    rs.program({
      'GET /mcp': challenge401(`resource_metadata="${rs.origin}/.well-known/oauth-protected-resource"`),
      '/.well-known/oauth-protected-resource': { status: 200, body: { resource: rs.origin, authorization_servers: [as.issuer] } },
    });
    await assert.rejects(discoverResource(rs.url), { code: 'ERR_RESOURCE_MISMATCH', received: rs.origin, expected: [rs.url] });
  });

  test('PRM-02 another resource at the well-known URL → ERR_RESOURCE_MISMATCH, and nothing further is tried', async () => {
    rs.program({
      '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: 'https://evil.example.com/mcp', authorization_servers: [as.issuer] } },
      '/.well-known/oauth-protected-resource': { status: 200, body: { resource: rs.origin, authorization_servers: [as.issuer] } },
    });
    await assert.rejects(fetchProtectedResourceMetadata(rs.url), { code: 'ERR_RESOURCE_MISMATCH', received: 'https://evil.example.com/mcp' });
    assert.deepEqual(rs.requested, ['GET /.well-known/oauth-protected-resource/mcp']);
  });

  test('scheme and host case and a default port do not make a mismatch; a trailing slash on the path does', async () => {
    const upper = rs.url.replace('http://', 'HTTP://');
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: upper, authorization_servers: [as.issuer] } } });
    assert.equal((await fetchProtectedResourceMetadata(rs.url)).document.resource, upper);
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: `${rs.url}/`, authorization_servers: [as.issuer] } } });
    await assert.rejects(fetchProtectedResourceMetadata(rs.url), { code: 'ERR_RESOURCE_MISMATCH' });
  });

  test('MCP-RS-01 metadata without authorization_servers, or an issuer it does not list → ERR_METADATA_INVALID', async () => {
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: rs.url } } });
    await assert.rejects(discoverResource(rs.url, { challenge: 'Bearer' }), { code: 'ERR_METADATA_INVALID', member: 'authorization_servers' });
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: rs.url, authorization_servers: [as.issuer] } } });
    await assert.rejects(discoverResource(rs.url, { challenge: 'Bearer', issuer: tenant.issuer }), { code: 'ERR_METADATA_INVALID' });
  });

  test('ASM-01 authorization server metadata whose issuer is not the listed one (RFC 8414 §3.3) → ERR_METADATA_ISSUER_MISMATCH', async () => {
    const liar = await startTestIssuer({ metadataIssuer: 'https://attacker.example.com' });
    try {
      rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 200, body: { resource: rs.url, authorization_servers: [liar.issuer] } } });
      await assert.rejects(discoverResource(rs.url, { challenge: 'Bearer' }), { code: 'ERR_METADATA_ISSUER_MISMATCH', received: 'https://attacker.example.com' });
    } finally {
      await liar.close();
    }
  });

  test('no metadata anywhere, a 5xx, or a non-https metadata URL → ERR_METADATA_FETCH_FAILED', async () => {
    rs.program({});
    await assert.rejects(discoverResource(rs.url), { code: 'ERR_METADATA_FETCH_FAILED' });
    rs.program({ '/.well-known/oauth-protected-resource/mcp': { status: 503 } });
    await assert.rejects(discoverResource(rs.url, { challenge: 'Bearer' }), { code: 'ERR_METADATA_FETCH_FAILED' });
    await assert.rejects(discoverResource(rs.url, { challenge: 'Bearer resource_metadata="http://metadata.example.com/prm"' }), { code: 'ERR_METADATA_FETCH_FAILED' });
    assert.deepEqual(rs.requested, ['GET /.well-known/oauth-protected-resource/mcp']);
  });

  test('misuse is a TypeError', async () => {
    await assert.rejects(discoverResource('not a url'), TypeError);
    await assert.rejects(discoverResource('https://h/mcp#x'), TypeError);
  });
});
