import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createVerifier } from '@mandate/sdk';
import { createMcpAuth, getAuthInfo } from '@mandate/sdk/mcp/server';
import { protectedResourceMetadata } from '@mandate/sdk/middleware/node';
import { z } from 'zod';

const port = Number(process.env.PORT ?? 3000), issuer = process.env.MANDATE_ISSUER ?? 'http://localhost:8787';
const resource = `http://localhost:${port}/mcp`;
const auth = createMcpAuth({ verifier: createVerifier({ issuer, audience: resource }), toolScopes: { add: ['calc'] } });
const metadata = protectedResourceMetadata({ resource, authorizationServers: [issuer], scopesSupported: ['calc'] });
const mcp = auth.nodeHandler(async (req, res, body) => {
  const server = new McpServer({ name: 'calc', version: '1.0.0' });
  auth.registerTool(server, 'add', { scopes: ['calc'], inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }, extra) =>
    ({ content: [{ type: 'text', text: `${a + b}, computed for ${getAuthInfo(extra).subject}` }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
});
createServer((req, res) => metadata(req, res) || void mcp(req, res)).listen(port);
