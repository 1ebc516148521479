import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createVerifier } from '@mandate/sdk';
import { createMcpAuth } from '@mandate/sdk/mcp/server';
import { protectedResourceMetadata } from '@mandate/sdk/middleware/node';
import { protectedResourceMetadataUrl } from '@mandate/sdk/metadata';
import type { DemoServerConfig } from './config.ts';
import type { Sandbox } from './sandbox.ts';
import { demoScopes, firstCallScopes, toolScopes } from './scopes.ts';
import { registerDemoTools } from './tools.ts';

export interface RunningDemoServer {
  /** This server's resource URI, e.g. `http://localhost:8788/mcp`: where MCP clients connect, and the tokens' `aud`. */
  readonly resource: string;
  /** Its RFC 9728 metadata URL (path-inserted). */
  readonly metadataUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  sandbox: Sandbox;
  /** One line per request (method, path, status, and for accepted calls the caller and tools); nothing when absent. */
  log?: (line: string) => void;
  commandTimeoutMs?: number;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

/** Names of the tools a JSON-RPC body calls, for the request log. */
function calledTools(body: unknown): string[] {
  return (Array.isArray(body) ? body : [body])
    .filter((m): m is { method: string; params?: { name?: unknown } } => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'tools/call')
    .map((m) => String(m.params?.name));
}

/**
 * The demo MCP server: Streamable HTTP at the resource's path, stateless (a fresh `McpServer` and transport per
 * request, so no session outlives the token that opened it), behind `createMcpAuth`, with its RFC 9728 metadata.
 */
export async function startDemoMcpServer(config: DemoServerConfig, options: StartOptions): Promise<RunningDemoServer> {
  const http = createServer();
  const port = await listen(http, config.port, config.host);
  const resource = config.resource ?? `http://localhost:${port}/mcp`;
  const resourceUrl = new URL(resource);

  const verifier = createVerifier({
    issuer: config.issuer,
    audience: resource,
    ...(config.verify.mode === 'introspection'
      ? { introspection: { credentials: { apiKey: config.verify.apiKey }, cacheTtlSeconds: config.verify.cacheTtlSeconds } }
      : {}),
  });
  // toolScopes up front: the guard must know each tool's scopes before the per-request server registers them.
  // The 401 names the first-call scopes; a 403 names a tool's scopes and those the token already has.
  const mcpAuth = createMcpAuth({ verifier, toolScopes, challengeScopes: firstCallScopes });
  const serveMetadata = protectedResourceMetadata({
    resource,
    authorizationServers: [config.issuer],
    scopesSupported: demoScopes.map((s) => s.name),
    resourceName: 'Mandate demo MCP server',
  });
  // DNS rebinding (MCP transport spec): a loopback server answers only to its own host names.
  const allowedHosts = [...new Set([resourceUrl.host, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])];

  // The tools each accepted request calls, for its log line.
  const toolsCalled = new WeakMap<ServerResponse, string[]>();
  const handleMcp = mcpAuth.nodeHandler(async (req, res, body) => {
    toolsCalled.set(res, calledTools(body));
    const server = new McpServer({ name: 'mandate-demo', version: '0.1.0' });
    registerDemoTools(server, mcpAuth, { sandbox: options.sandbox, commandTimeoutMs: options.commandTimeoutMs });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      enableDnsRebindingProtection: true,
      allowedHosts,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });

  const log = options.log;
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (log !== undefined) {
      res.on('finish', () => {
        const auth = (req as { auth?: { subject: string; agentId?: string } }).auth;
        const who = auth === undefined ? '' : ` ${auth.subject}${auth.agentId !== undefined && auth.agentId !== auth.subject ? ` via ${auth.agentId}` : ''}`;
        const tools = toolsCalled.get(res) ?? [];
        log(`${req.method} ${path} ${res.statusCode}${who}${tools.length ? ` tools/call ${tools.join(',')}` : ''}`);
      });
    }
    if (serveMetadata(req, res)) return;
    if (path !== resourceUrl.pathname) return sendJson(res, 404, { error: 'not_found' });
    // Stateless Streamable HTTP: no server-initiated stream (GET) and no session to end (DELETE).
    if (req.method !== 'POST') return sendJson(res, 405, jsonRpcError(-32000, 'Method not allowed'), { allow: 'POST' });
    handleMcp(req, res).catch((err: unknown) => {
      log?.(`error: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, 500, jsonRpcError(-32603, 'Internal error'));
      else res.end();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    resource,
    metadataUrl: protectedResourceMetadataUrl(resource),
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closed;
    },
  };
}
