import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpAuth, getAuthInfo } from '../../packages/sdk/src/mcp/server.ts';
import { createDownstreamExchanger, createVerifier } from '../../packages/sdk/src/verify/index.ts';
import { TokenRequestFailed } from '../../packages/sdk/src/errors.ts';
import { decodeJwt, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { actorToken, createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * Issue 11 item 2's acceptance, end to end over real HTTP on both stores: an agent calls an MCP server (the
 * gateway) built with the SDK on a person's behalf; the gateway's tool calls a second MCP server (the downstream)
 * with a token it got by `exchangeForDownstream` (RFC 8693 with its API key), never the person's token; the
 * downstream's tool sees the whole chain: the person, then the agent, then the gateway. Both MCP servers are the
 * unmodified MCP TypeScript SDK over Streamable HTTP behind `createMcpAuth`.
 */

const GATEWAY = 'https://gateway.example.com/mcp';
const DOWNSTREAM = 'https://files.example.com/mcp';
const STRANGER = 'https://stranger.example.com/mcp';

/** One stateless Streamable HTTP MCP endpoint on 127.0.0.1 whose tools `register` adds per request. */
async function mcpEndpoint(auth: ReturnType<typeof createMcpAuth>, register: (server: McpServer) => void): Promise<{ url: URL; close: () => Promise<void> }> {
  const handle = auth.nodeHandler(async (req, res, body) => {
    const server = new McpServer({ name: 'test', version: '1.0.0' });
    register(server);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => void handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`),
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** Calls `tool` at `url` with an MCP SDK client presenting `token`; resolves with the text it answered. */
async function callTool(url: URL, token: string, tool: string): Promise<string> {
  const client = new Client({ name: 'caller', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  try {
    const result = (await client.callTool({ name: tool, arguments: {} })) as { content: { type: string; text: string }[]; isError?: boolean };
    if (result.isError) throw new Error(result.content[0]?.text ?? 'tool error');
    return result.content[0]!.text;
  } finally {
    await client.close();
  }
}

forEachStore('exchangeForDownstream: an MCP server calls another on the user’s behalf', (fixture) => {
  let server: TestServer;
  let gatewayKey: string;
  let downstream: { url: URL; close: () => Promise<void> };
  let gateway: { url: URL; close: () => Promise<void> };
  let agentId: string;
  let userId: string;
  let userToken: string;
  /** The `jti` of every token the downstream accepted, in order. */
  const seenByDownstream: string[] = [];

  before(async () => {
    server = await startTestServer(fixture);
    for (const uri of [DOWNSTREAM, STRANGER]) assert.equal((await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', 'files:read'] })).status, 201);
    const created = await server.admin('POST', '/resources', { resource: GATEWAY, scopes: ['calc', 'files:read'], downstream_resources: [DOWNSTREAM, STRANGER] });
    gatewayKey = ((await created.json()) as { api_key: string }).api_key;
    const agent = (await (await server.admin('POST', '/agents', { name: 'Research Assistant', scopes: ['calc', 'files:read'], audiences: [GATEWAY, DOWNSTREAM] })).json()) as {
      client_id: string;
      client_secret: string;
    };
    agentId = agent.client_id;
    userId = await createUser(server, 'ada@example.com');
    const app = await createApp(server, { public: true });
    const flow = { clientId: app.clientId, scope: 'calc files:read', resource: [GATEWAY, DOWNSTREAM], requestedActor: agentId, email: 'ada@example.com' };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await redeemCode(server, flow, code, verifier, { actor_token: await actorToken(server, { clientId: agent.client_id, clientSecret: agent.client_secret }), resource: GATEWAY });
    userToken = ((await redeemed.json()) as { access_token: string }).access_token;

    const clock = server.clock.nowMs;
    const downstreamAuth = createMcpAuth({ verifier: createVerifier({ issuer: server.issuer, audience: DOWNSTREAM, clock }) });
    downstream = await mcpEndpoint(downstreamAuth, (mcp) =>
      downstreamAuth.registerTool(mcp, 'whoami', { scopes: ['files:read'] }, async (extra) => {
        const auth = getAuthInfo(extra);
        seenByDownstream.push(auth.tokenId);
        const chain = { subject: auth.subject, agentId: auth.agentId, actors: auth.actors, scopes: auth.scopes };
        return { content: [{ type: 'text', text: JSON.stringify(chain) }] };
      }),
    );

    const gatewayAuth = createMcpAuth({ verifier: createVerifier({ issuer: server.issuer, audience: GATEWAY, clock }) });
    const exchanger = createDownstreamExchanger({ issuer: server.issuer, apiKey: gatewayKey, clock });
    gateway = await mcpEndpoint(gatewayAuth, (mcp) =>
      gatewayAuth.registerTool(mcp, 'relay', { scopes: ['calc'] }, async (extra) => {
        const { accessToken } = await exchanger.exchangeForDownstream({ subjectToken: getAuthInfo(extra).token, resource: DOWNSTREAM, scope: 'files:read' });
        return { content: [{ type: 'text', text: await callTool(downstream.url, accessToken, 'whoami') }] };
      }),
    );
  });
  after(async () => {
    await gateway?.close();
    await downstream?.close();
    await server.close();
  });

  test('TE-06 end to end: the downstream tool sees the person, the agent and the gateway; the token is reused until shortly before it expires', async () => {
    assert.equal(decodeJwt(userToken).payload['aud'], GATEWAY, 'the agent’s token is for the gateway only');
    const seen = JSON.parse(await callTool(gateway.url, userToken, 'relay')) as { subject: string; agentId: string; actors: Record<string, unknown>[]; scopes: string[] };
    assert.equal(seen.subject, userId, 'the person is the subject');
    assert.equal(seen.agentId, agentId);
    assert.deepEqual(seen.actors, [
      { subject: GATEWAY, clientId: GATEWAY, subjectProfile: 'resource_server' },
      { subject: agentId, clientId: agentId, subjectProfile: 'ai_agent' },
    ]);
    assert.deepEqual(seen.scopes, ['files:read'], 'only what the gateway asked for');

    // Cached: a second call presents the same downstream token; close to its expiry, a new one is exchanged.
    await callTool(gateway.url, userToken, 'relay');
    assert.equal(seenByDownstream.length, 2);
    assert.equal(seenByDownstream[1], seenByDownstream[0], 'reused while it has time left');
    const exp = decodeJwt(userToken).payload['exp'] as number;
    server.clock.advance(exp - server.clock.now() - 20);
    await callTool(gateway.url, userToken, 'relay');
    assert.notEqual(seenByDownstream[2], seenByDownstream[0], 'exchanged again within 30 s of expiry');
  });

  test('refusals reach the SDK caller as coded errors with the server’s error: not allowed downstream, wider scope, outside consent', async () => {
    const exchanger = createDownstreamExchanger({ issuer: server.issuer, apiKey: gatewayKey, clock: server.clock.nowMs });
    const refused = async (request: { resource: string; scope?: string }, error: string, description: string) => {
      await assert.rejects(exchanger.exchangeForDownstream({ subjectToken: userToken, ...request }), (err: unknown) => {
        assert.ok(err instanceof TokenRequestFailed);
        assert.equal(err.code, 'ERR_TOKEN_REQUEST_FAILED');
        assert.equal(err.status, 400);
        assert.equal(err.error, error);
        assert.equal(err.errorDescription, description);
        return true;
      });
    };
    await refused({ resource: GATEWAY }, 'invalid_target', `resource ${GATEWAY} is not an allowed downstream of resource server ${GATEWAY}`);
    await refused({ resource: DOWNSTREAM, scope: 'files:read exec' }, 'invalid_scope', "scope exec exceeds the subject token's scope");
    await refused({ resource: STRANGER }, 'invalid_target', `resource ${STRANGER} is outside what the user consented to`);
    const wrongKey = createDownstreamExchanger({ issuer: server.issuer, apiKey: `${gatewayKey.slice(0, -1)}${gatewayKey.endsWith('A') ? 'B' : 'A'}` });
    await assert.rejects(wrongKey.exchangeForDownstream({ subjectToken: userToken, resource: DOWNSTREAM }), { code: 'ERR_TOKEN_REQUEST_FAILED', status: 401, error: 'invalid_client' });
  });
});
