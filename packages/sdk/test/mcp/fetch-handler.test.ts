import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { createMcpAuth, getAuthInfo } from '../../src/mcp/server.ts';
import { protectedResourceMetadata } from '../../src/middleware/hono.ts';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

describe('MCP adapter, fetch-style: stateless web-standard transport on Hono, real MCP SDK client', () => {
  let as: TestIssuer;
  let server: ReturnType<typeof serve>;
  let mcpUrl: URL;

  before(async () => {
    as = await startTestIssuer();
    const app = new Hono();
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    mcpUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
    // Stateless: a new McpServer per request, so the guard learns the tools' scopes up front.
    const mcpAuth = createMcpAuth({
      verifier: createVerifier({ issuer: as.issuer, audience: mcpUrl.href }),
      toolScopes: { list_files: ['files:read'], delete_file: ['files:write', 'files:delete'] },
    });
    const handler = mcpAuth.fetchHandler(async (request, init) => {
      const mcp = new McpServer({ name: 'files', version: '1.0.0' });
      const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
      mcpAuth.registerTool(mcp, 'list_files', { scopes: ['files:read'] }, async (extra) => text({ files: ['a.txt'], for: getAuthInfo(extra).subject }));
      mcpAuth.registerTool(mcp, 'delete_file', { scopes: ['files:write', 'files:delete'] }, async () => text('deleted'));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcp.connect(transport);
      return transport.handleRequest(request, init);
    });
    app.use(protectedResourceMetadata({ resource: mcpUrl.href, authorizationServers: [as.issuer] }));
    app.all('/mcp', (c) => handler(c.req.raw));
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await as.close();
  });

  test('MCP-RS-03 the first tools/call is checked: list_files works, delete_file → 403 naming both scopes', async () => {
    const seen: Array<string | null> = [];
    const transport = new StreamableHTTPClientTransport(mcpUrl, {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        seen.push(response.headers.get('www-authenticate'));
        return response;
      },
      requestInit: { headers: { Authorization: `Bearer ${as.accessToken({ aud: mcpUrl.href, scope: 'files:read files:write' })}` } },
    });
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(transport);
    try {
      const listed = await client.callTool({ name: 'list_files', arguments: {} });
      assert.deepEqual(listed.content, [{ type: 'text', text: '{"files":["a.txt"],"for":"usr_alice"}' }]);
      await assert.rejects(client.callTool({ name: 'delete_file', arguments: {} }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
      assert.equal(
        seen.at(-1),
        `Bearer error="insufficient_scope", error_description="missing scope: files:delete", scope="files:write files:delete files:read", resource_metadata="${mcpUrl.origin}/.well-known/oauth-protected-resource/mcp"`,
      );
    } finally {
      await client.close();
    }
  });

  test('no token → 401 with the metadata pointer', async () => {
    const response = await fetch(mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${mcpUrl.origin}/.well-known/oauth-protected-resource/mcp", ${DPOP_OFFER}`);
  });

  test('a registerTool scope list that contradicts toolScopes is a TypeError', () => {
    const mcpAuth = createMcpAuth({ verifier: createVerifier({ issuer: as.issuer, audience: mcpUrl.href }), toolScopes: { t: ['a'] } });
    assert.throws(() => mcpAuth.registerTool(new McpServer({ name: 'x', version: '1' }), 't', { scopes: ['b'] }, async () => ({ content: [] })), TypeError);
  });
});
