import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { createActionUseRecorder, createMcpAuth, type ToolCallReporter } from '../../packages/sdk/src/mcp/server.ts';
import { createVerifier } from '../../packages/sdk/src/verify/index.ts';

export interface ToolsMcpServer {
  url: URL;
  /** The commands `run_command` ran, in order. */
  ran: string[];
  close(): Promise<void>;
}

/**
 * An MCP server built with the unmodified MCP TypeScript SDK behind the SDK's `createMcpAuth`: `run_command`
 * (scope `exec`, approved per action: one approval, one call) and `add` (scope `calc`). `introspect` asks the
 * authorization server about every token (cache 0), so a revocation is seen at the next call.
 */
export async function startToolsMcpServer(o: { issuer: string; resource: string; apiKey: string; clock: () => number; introspect?: boolean; toolCalls?: ToolCallReporter }): Promise<ToolsMcpServer> {
  const ran: string[] = [];
  const mcpAuth = createMcpAuth({
    verifier: createVerifier({ issuer: o.issuer, audience: o.resource, clock: o.clock, ...(o.introspect ? { introspection: { credentials: { apiKey: o.apiKey }, cacheTtlSeconds: 0 } } : {}) }),
    actionApproval: { recorder: createActionUseRecorder({ issuer: o.issuer, apiKey: o.apiKey }), tools: ['run_command'] },
    ...(o.toolCalls ? { toolCalls: o.toolCalls } : {}),
  });
  const handle = mcpAuth.nodeHandler(async (req, res, body) => {
    const tools = new McpServer({ name: 'tools', version: '1.0.0' });
    mcpAuth.registerTool(tools, 'run_command', { scopes: ['exec'], perActionApproval: true, inputSchema: { command: z.string() } }, async ({ command }) => {
      ran.push(command);
      return { content: [{ type: 'text', text: `ran ${command}` }] };
    });
    mcpAuth.registerTool(tools, 'add', { scopes: ['calc'], inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await tools.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => void handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`),
    ran,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** Calls a tool as an MCP client holding `token`; a tool error becomes a thrown Error with its text. */
export async function callToolWith(url: URL, token: string, name: string, args: Record<string, unknown>): Promise<string> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  try {
    const result = (await client.callTool({ name, arguments: args })) as { content: { text: string }[]; isError?: boolean };
    if (result.isError) throw new Error(result.content[0]?.text);
    return result.content[0]!.text;
  } finally {
    await client.close();
  }
}
