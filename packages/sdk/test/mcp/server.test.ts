import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { createDpopFetch, DpopProver } from '../../src/dpop/prover.ts';
import { createMcpAuth, getAuthInfo } from '../../src/mcp/server.ts';
import type { McpAuth } from '../../src/mcp/server.ts';
import { protectedResourceMetadata } from '../../src/middleware/node.ts';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** An MCP server whose tools declare their scopes next to them. */
function buildMcpServer(mcpAuth: McpAuth): McpServer {
  const server = new McpServer({ name: 'files', version: '1.0.0' });
  const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
  mcpAuth.registerTool(
    server,
    'list_files',
    { scopes: ['files:read'], description: 'List files', annotations: { readOnlyHint: true } },
    async () => text(['a.txt', 'b.txt']),
  );
  mcpAuth.registerTool(
    server,
    'write_file',
    { scopes: ['files:write'], description: 'Write a file', inputSchema: { path: z.string() } },
    async ({ path }) => text({ written: path }),
  );
  mcpAuth.registerTool(server, 'whoami', { description: 'Who is calling' }, async (extra) => {
    const auth = getAuthInfo(extra);
    return text({ subject: auth.subject, agentId: auth.agentId, clientId: auth.clientId, actors: auth.actors, scopes: auth.scopes });
  });
  return server;
}

interface Recorded {
  status: number;
  wwwAuthenticate: string | null;
}

describe('MCP server adapter with the real MCP SDK client (Streamable HTTP)', () => {
  let as: TestIssuer;
  let http: Server;
  let mcpUrl: URL;
  let metadataUrl: string;
  const transports = new Map<string, StreamableHTTPServerTransport>();

  before(async () => {
    as = await startTestIssuer();
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    mcpUrl = new URL(`${origin}/mcp`);
    metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
    const verifier = createVerifier({ issuer: as.issuer, audience: mcpUrl.href });
    const mcpAuth = createMcpAuth({ verifier });
    const serveMetadata = protectedResourceMetadata({ resource: mcpUrl.href, authorizationServers: [as.issuer], scopesSupported: ['files:read', 'files:write'] });
    const mcp = mcpAuth.nodeHandler(async (req, res, body) => {
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
      if (transport === undefined) {
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            transports.set(id, transport as StreamableHTTPServerTransport);
          },
        });
        await buildMcpServer(mcpAuth).connect(transport);
      }
      await transport.handleRequest(req, res, body);
    });
    http.on('request', (req, res) => {
      if (serveMetadata(req, res)) return;
      if (req.url === '/mcp') {
        void mcp(req, res);
        return;
      }
      res.writeHead(404).end();
    });
  });

  after(async () => {
    for (const transport of transports.values()) await transport.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await as.close();
  });

  /** A connected MCP client; `seen` records the status and challenge of every HTTP answer it got. */
  async function connect(token?: string, seen: Recorded[] = []): Promise<{ client: Client; seen: Recorded[] }> {
    const observe: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      seen.push({ status: response.status, wwwAuthenticate: response.headers.get('www-authenticate') });
      return response;
    };
    const transport = new StreamableHTTPClientTransport(mcpUrl, {
      fetch: observe,
      requestInit: token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(transport);
    return { client, seen };
  }

  const token = (claims: Record<string, unknown>) => as.accessToken({ aud: mcpUrl.href, ...claims });

  test('MCP-RS-02 no token → 401 with WWW-Authenticate naming the metadata URL', async () => {
    const seen: Recorded[] = [];
    await assert.rejects(connect(undefined, seen), (err: unknown) => err instanceof StreamableHTTPError && err.code === 401);
    // RFC 9449 §7.1: the resource accepts DPoP too, so the challenge offers it after Bearer, with its algorithms.
    assert.deepEqual(seen, [{ status: 401, wwwAuthenticate: `Bearer resource_metadata="${metadataUrl}", DPoP algs="${JWS_ALGORITHMS.join(' ')}"` }]);
  });

  test('MCP-RS-01 the MCP SDK client discovers our RFC 9728 metadata for the server URL', async () => {
    const metadata = await discoverOAuthProtectedResourceMetadata(mcpUrl);
    assert.equal(metadata.resource, mcpUrl.href);
    assert.deepEqual(metadata.authorization_servers, [as.issuer]);
  });

  test('MCP-RS-03 files:read lists files; a files:write tool gets HTTP 403 insufficient_scope', async () => {
    const { client, seen } = await connect(token({ scope: 'files:read' }));
    try {
      const listed = await client.callTool({ name: 'list_files', arguments: {} });
      assert.deepEqual(listed.content, [{ type: 'text', text: '["a.txt","b.txt"]' }]);
      await assert.rejects(client.callTool({ name: 'write_file', arguments: { path: 'x.txt' } }), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
      const refusal = seen.at(-1);
      assert.equal(refusal?.status, 403);
      assert.equal(
        refusal?.wwwAuthenticate,
        `Bearer error="insufficient_scope", error_description="missing scope: files:write", scope="files:write files:read", resource_metadata="${metadataUrl}"`,
      );
    } finally {
      await client.close();
    }
  });

  test('MCP-RS-03 files:write token may call write_file', async () => {
    const { client } = await connect(token({ scope: 'files:read files:write' }));
    try {
      const result = await client.callTool({ name: 'write_file', arguments: { path: 'x.txt' } });
      assert.deepEqual(result.content, [{ type: 'text', text: '{"written":"x.txt"}' }]);
    } finally {
      await client.close();
    }
  });

  test('MCP-RS-02 end to end: the MCP SDK client follows our 401 to the metadata, gets a token for this resource, calls a tool', async () => {
    as.addClient({ clientId: 'agt_mcp', secret: 'mcp-secret' });
    const transport = new StreamableHTTPClientTransport(mcpUrl, {
      authProvider: new ClientCredentialsProvider({ clientId: 'agt_mcp', clientSecret: 'mcp-secret', scope: 'files:read', expectedIssuer: as.issuer }),
    });
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(transport);
    try {
      const listed = await client.callTool({ name: 'list_files', arguments: {} });
      assert.deepEqual(listed.content, [{ type: 'text', text: '["a.txt","b.txt"]' }]);
      const request = as.tokenRequests.at(-1);
      assert.equal(request?.get('grant_type'), 'client_credentials');
      assert.deepEqual(request?.getAll('resource'), [mcpUrl.href]); // MCP-C-04, honoured through our PRM
    } finally {
      await client.close();
    }
  });

  test('MCP-RS-04 a token for another resource → 401 invalid_token', async () => {
    await assert.rejects(connect(as.accessToken({ aud: 'https://other.example.test/mcp' })), (err: unknown) => err instanceof StreamableHTTPError && err.code === 401);
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${as.accessToken({ aud: 'https://other.example.test/mcp' })}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
  });

  test('registerTool passes the tool config through: tools/list shows descriptions and annotations', async () => {
    const { client } = await connect(token({ scope: 'files:read' }));
    try {
      const { tools } = await client.listTools();
      const listFiles = tools.find((t) => t.name === 'list_files');
      assert.equal(listFiles?.description, 'List files');
      assert.deepEqual(listFiles?.annotations, { readOnlyHint: true });
    } finally {
      await client.close();
    }
  });

  test('DP-20 at the MCP adapter: a DPoP-bound token sent as Bearer → 401 with a DPoP invalid_token challenge', async () => {
    const seen: Recorded[] = [];
    const bound = token({ scope: 'files:read', cnf: { jkt: DpopProver.generate().jkt } });
    await assert.rejects(connect(bound, seen), (err: unknown) => err instanceof StreamableHTTPError && err.code === 401);
    assert.match(seen[0]?.wwwAuthenticate ?? '', /^DPoP error="invalid_token", error_description="a sender-constrained token cannot be used as a bearer token", resource_metadata="[^"]+", algs="ES256 /);
  });

  test('DPoP through the unmodified MCP SDK client: createDpopFetch sends its bound token with a fresh proof per request', async () => {
    const prover = DpopProver.generate();
    const seen: Recorded[] = [];
    const observe: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      assert.match(headers.get('authorization') ?? '', /^DPoP /, 'the transport’s Bearer header became DPoP');
      const response = await fetch(input, init);
      seen.push({ status: response.status, wwwAuthenticate: response.headers.get('www-authenticate') });
      return response;
    };
    const bound = token({ sub: 'usr_alice', scope: 'files:read', cnf: { jkt: prover.jkt } });
    const transport = new StreamableHTTPClientTransport(mcpUrl, { fetch: createDpopFetch(prover, observe), requestInit: { headers: { Authorization: `Bearer ${bound}` } } });
    const client = new Client({ name: 'dpop-client', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'list_files', arguments: {} });
      assert.deepEqual(JSON.parse((result.content as Array<{ text: string }>)[0]?.text ?? ''), ['a.txt', 'b.txt']);
      assert.ok(seen.length >= 3 && seen.every((answer) => answer.status < 300), JSON.stringify(seen));
    } finally {
      await client.close();
    }
  });

  test('a whoami tool receives AuthInfo: the user, and the agent acting for them', async () => {
    const act = { sub: 'agt_assistant', sub_profile: 'ai_agent', client_id: 'agt_assistant' };
    const { client } = await connect(token({ sub: 'usr_alice', client_id: 'agt_assistant', scope: 'files:read', act }));
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      const [first] = result.content as Array<{ text: string }>;
      assert.deepEqual(JSON.parse(first?.text ?? ''), {
        subject: 'usr_alice',
        agentId: 'agt_assistant',
        clientId: 'agt_assistant',
        actors: [{ subject: 'agt_assistant', subjectProfile: 'ai_agent', clientId: 'agt_assistant' }],
        scopes: ['files:read'],
      });
    } finally {
      await client.close();
    }
  });
});
