import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildProtectedResourceMetadata,
  createProtectedResourceMetadataHandler,
  protectedResourceMetadataUrl,
} from '../../src/metadata/protected-resource.ts';

describe('protected resource metadata (RFC 9728)', () => {
  test('PRM-01 the well-known suffix is inserted between host and path, query kept, host slash dropped', () => {
    assert.equal(protectedResourceMetadataUrl('https://h.example/mcp'), 'https://h.example/.well-known/oauth-protected-resource/mcp');
    assert.equal(protectedResourceMetadataUrl('https://h.example/'), 'https://h.example/.well-known/oauth-protected-resource');
    assert.equal(protectedResourceMetadataUrl('https://h.example'), 'https://h.example/.well-known/oauth-protected-resource');
    assert.equal(protectedResourceMetadataUrl('https://h.example/a/b/'), 'https://h.example/.well-known/oauth-protected-resource/a/b/');
    assert.equal(protectedResourceMetadataUrl('https://h.example:8443/r?x=1'), 'https://h.example:8443/.well-known/oauth-protected-resource/r?x=1');
  });

  test('MCP-RS-01/05 authorization_servers required; offline_access not advertised; empty members omitted', () => {
    assert.throws(() => buildProtectedResourceMetadata({ resource: 'https://h.example/mcp', authorizationServers: [] }), TypeError);
    assert.throws(() => buildProtectedResourceMetadata({ resource: 'https://h.example/mcp#f', authorizationServers: ['https://as'] }), TypeError);
    assert.deepEqual(
      buildProtectedResourceMetadata({ resource: 'https://h.example/mcp', authorizationServers: ['https://as.example'], scopesSupported: ['offline_access'] }),
      { resource: 'https://h.example/mcp', authorization_servers: ['https://as.example'], bearer_methods_supported: ['header'] },
    );
  });

  test('the fetch handler answers the metadata paths only', async () => {
    const handler = createProtectedResourceMetadataHandler({ resource: 'https://h.example/mcp', authorizationServers: ['https://as.example'], serveRootPath: false });
    const res = handler(new Request('https://h.example/.well-known/oauth-protected-resource/mcp'));
    assert.equal(res?.status, 200);
    assert.equal(((await res?.json()) as { resource: string }).resource, 'https://h.example/mcp');
    assert.equal(handler(new Request('https://h.example/.well-known/oauth-protected-resource')), undefined);
    assert.equal(handler(new Request('https://h.example/mcp')), undefined);
    assert.equal(handler(new Request('https://h.example/.well-known/oauth-protected-resource/mcp', { method: 'POST' }))?.status, 405);
  });
});
