import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentAuthClient, FileTokenStore } from '../../packages/sdk/src/agent/index.ts';
import { createDpopFetch, createDpopNonces, DpopProver } from '../../packages/sdk/src/dpop/index.ts';
import { mcpTokenSetKey, McpOAuthClientProvider } from '../../packages/sdk/src/mcp/client/index.ts';
import { createMcpAuth, getAuthInfo } from '../../packages/sdk/src/mcp/server.ts';
import { protectedResourceMetadata } from '../../packages/sdk/src/middleware/node.ts';
import { createVerifier } from '../../packages/sdk/src/verify/create-verifier.ts';
import { decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { type DpopResource, startDpopResource } from '../helpers/dpop-resource.ts';
import { createApp, createUser, isActive } from '../../packages/server/test/helpers/user-flow.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/**
 * DPoP end to end with the SDK on both sides, over real HTTP: the SDK's clients get DPoP-bound tokens from the
 * authorization server (which requires nonces), and call a node:http resource guarded by the SDK's middleware (which
 * requires its own nonces), retrying once for each nonce as RFC 9449 §8 and §9 say.
 */
forEachStore('SDK DPoP end to end (RFC 9449)', (fixture) => {
  let server: TestServer;
  let resource: DpopResource;
  let resourceUrl: string;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  let app: { clientId: string };
  const redirectUri = 'http://127.0.0.1/callback';
  const email = 'ada@example.com';

  before(async () => {
    server = await startTestServer(fixture, { dpop: { nonceRequired: true } });
    resource = await startDpopResource(server);
    resourceUrl = resource.url;
    agent = await registerAgentAndResource(server, { scopes: ['calc', 'files:read'] }, resourceUrl);
    await createUser(server, email);
    app = await createApp(server, { public: true, redirect_uris: [redirectUri] });
  });
  after(async () => {
    await resource.close();
    await server.close();
  });

  /** The agent with the public application, for on-behalf-of flows, making its token requests with `prover`. */
  const onBehalfOf = (prover: DpopProver) =>
    new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, app: { clientId: app.clientId, redirectUri }, clock: server.clock.nowMs, dpop: prover });

  /** A fetch that records each answer's status and DPoP error, to see the nonce retries on the wire. */
  function recording(): { fetch: typeof fetch; seen: string[] } {
    const seen: string[] = [];
    return {
      seen,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const error = /error="(\w+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1] ?? (response.status === 400 ? ((await response.clone().json()) as { error: string }).error : undefined);
        seen.push(`${response.status}${error ? ` ${error}` : ''}`);
        return response;
      },
    };
  }

  test('DP-14 AgentAuthClient: client_credentials with a proof, one retry for the AS nonce → token_type DPoP bound to the prover key', async () => {
    const prover = DpopProver.generate('ES256', { clock: server.clock.nowMs });
    const as = recording();
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, dpop: prover, fetch: as.fetch });
    const token = await client.getAgentToken({ resource: resourceUrl, scope: 'calc' });
    assert.equal(token.tokenType, 'DPoP');
    assert.deepEqual(decodeJwt(token.accessToken).payload['cnf'], { jkt: prover.jkt });
    assert.deepEqual(as.seen.filter((s) => s !== '200'), ['400 use_dpop_nonce'], 'one use_dpop_nonce, then the token');

    const rs = recording();
    const response = await prover.fetch(resourceUrl, token.accessToken, {}, rs.fetch);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { subject: agent.clientId, jkt: prover.jkt });
    assert.deepEqual(rs.seen, ['401 use_dpop_nonce', '200'], 'the resource asked for its nonce once');
    const again = await prover.fetch(resourceUrl, token.accessToken, {}, rs.fetch);
    assert.equal(again.status, 200, 'the next call carries the nonce at once');
  });

  test('DP-20 the same DPoP-bound token sent as a bearer token → 401 DPoP invalid_token at the resource', async () => {
    const prover = DpopProver.generate('EdDSA', { clock: server.clock.nowMs });
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, clock: server.clock.nowMs, dpop: prover });
    const { accessToken } = await client.getAgentToken({ resource: resourceUrl });
    const response = await fetch(resourceUrl, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
  });

  test('DP-18 DP-17 on-behalf-of with DPoP: the authorization URL carries dpop_jkt; the code, access and refresh tokens are bound to the key', async () => {
    const prover = DpopProver.generate('ES256', { clock: server.clock.nowMs });
    const client = onBehalfOf(prover);
    const { url } = await client.authorizationUrl({ scope: 'openid offline_access calc', resource: resourceUrl });
    assert.equal(new URL(url).searchParams.get('dpop_jkt'), prover.jkt);
    const tokens = await client.exchangeCode(client.handleCallback((await signInAndConsent(url, { email })).location));
    assert.equal(tokens.tokenType, 'DPoP');
    assert.deepEqual(decodeJwt(tokens.accessToken).payload['cnf'], { jkt: prover.jkt });
    assert.equal(await isActive(server, agent.apiKey, tokens.accessToken), true);

    const refreshed = await client.refresh(tokens);
    assert.equal(refreshed.tokenType, 'DPoP');
    assert.deepEqual(decodeJwt(refreshed.accessToken).payload['cnf'], { jkt: prover.jkt });
    const response = await prover.fetch(resourceUrl, refreshed.accessToken);
    assert.equal(response.status, 200);

    // The agent exchanges the user's bound token (RFC 8693) with a proof of its key: the child stays bound to it.
    const exchanged = await client.exchange({ subjectToken: refreshed.accessToken, resource: resourceUrl, scope: 'calc' });
    assert.equal(exchanged.tokenType, 'DPoP');
    assert.deepEqual(decodeJwt(exchanged.accessToken).payload['cnf'], { jkt: prover.jkt });
    assert.equal((await prover.fetch(resourceUrl, exchanged.accessToken)).status, 200);

    // Another key cannot use the refresh token (the public client's refresh tokens are bound, RFC 9449 §5): a thief
    // with the refresh token but not the key, which by default is not in the stored set.
    assert.equal(refreshed.dpopKey, undefined, 'the key stays in memory unless storeDpopKey');
    const thief = onBehalfOf(DpopProver.generate('ES256', { clock: server.clock.nowMs }));
    await assert.rejects(thief.refresh(refreshed), (err: unknown) => (err as { code?: string; error?: string }).code === 'ERR_TOKEN_REQUEST_FAILED' && (err as { error?: string }).error === 'invalid_grant');
  });

  test('issue 11 item 7: by default no token store holds the DPoP private key; the bound tokens work (and refresh) while the prover lives', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mandate-dpop-store-')), 'tokens.json');
    const prover = DpopProver.generate('ES256', { clock: server.clock.nowMs });
    const client = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, app: { clientId: app.clientId, redirectUri }, clock: server.clock.nowMs, dpop: prover, tokenStore: new FileTokenStore(path) });
    const { url } = await client.authorizationUrl({ scope: 'openid offline_access calc', resource: resourceUrl });
    const tokens = await client.exchangeCode(client.handleCallback((await signInAndConsent(url, { email })).location));
    assert.equal(tokens.tokenType, 'DPoP');
    const refreshed = await client.refresh(tokens);
    assert.deepEqual(decodeJwt(refreshed.accessToken).payload['cnf'], { jkt: prover.jkt });
    assert.equal((await prover.fetch(resourceUrl, refreshed.accessToken)).status, 200);
    const file = readFileSync(path, 'utf8');
    assert.ok(file.includes(refreshed.refreshToken!), 'the store holds the tokens');
    assert.ok(!file.includes('dpopKey') && !file.includes(String(prover.exportKey().privateJwk.d)), 'but not the private key');
    assert.throws(() => new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, app: { clientId: app.clientId }, storeDpopKey: 'yes' as never }), TypeError);
  });

  test('issue 11 item 7: with storeDpopKey, FileTokenStore keeps the DPoP key with the bound tokens, so an agent started again presents and refreshes them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mandate-dpop-store-')), 'tokens.json');
    const prover = DpopProver.generate('ES256', { clock: server.clock.nowMs });
    const first = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, app: { clientId: app.clientId, redirectUri }, clock: server.clock.nowMs, dpop: prover, storeDpopKey: true, tokenStore: new FileTokenStore(path) });
    const { url } = await first.authorizationUrl({ scope: 'openid offline_access calc', resource: resourceUrl });
    const tokens = await first.exchangeCode(first.handleCallback((await signInAndConsent(url, { email })).location));
    assert.equal(tokens.tokenType, 'DPoP');
    assert.equal(statSync(path).mode & 0o777, 0o600, 'the key is as secret as the refresh token beside it');

    // A new process: a new client without the prover, the same file.
    const restarted = new AgentAuthClient({ issuer: server.issuer, clientId: agent.clientId, clientSecret: agent.clientSecret, app: { clientId: app.clientId, redirectUri }, clock: server.clock.nowMs, storeDpopKey: true, tokenStore: new FileTokenStore(path) });
    const stored = await restarted.getDelegatedToken(tokens.key);
    assert.ok(stored?.dpopKey, 'the set came back with its key');
    const again = DpopProver.fromStoredKey(stored.dpopKey, { clock: server.clock.nowMs });
    assert.equal(again.jkt, prover.jkt);
    assert.equal((await again.fetch(resourceUrl, stored.accessToken)).status, 200, 'the bound access token is usable after the restart');

    // Its refresh uses the stored key (the refresh token is bound to it): the new tokens are bound to it too.
    const refreshed = await restarted.refresh(stored);
    assert.equal(refreshed.tokenType, 'DPoP');
    assert.deepEqual(decodeJwt(refreshed.accessToken).payload['cnf'], { jkt: prover.jkt });
    assert.deepEqual((await new FileTokenStore(path).get(tokens.key))?.dpopKey, stored.dpopKey);
    assert.equal((await again.fetch(resourceUrl, refreshed.accessToken)).status, 200);
  });

  /** An MCP server guarded by the SDK's MCP adapter, requiring its own DPoP nonces, with a `whoami` tool. */
  async function startDpopMcpServer(name: string): Promise<{ mcpUrl: string; mcpAgent: { clientId: string; clientSecret: string }; close(): Promise<void> }> {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const mcpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const mcpAgent = await registerAgentAndResource(server, { name, scopes: ['calc'] }, mcpUrl);
    const verifier = createVerifier({ issuer: server.issuer, audience: mcpUrl, clock: server.clock.nowMs, dpop: { nonces: createDpopNonces(randomBytes(32), 60) } });
    const mcpAuth = createMcpAuth({ verifier });
    const serveMetadata = protectedResourceMetadata({ resource: mcpUrl, authorizationServers: [server.issuer], scopesSupported: ['calc'] });
    const handle = mcpAuth.nodeHandler(async (req, res, body) => {
      const mcp = new McpServer({ name: 'dpop', version: '1.0.0' });
      mcpAuth.registerTool(mcp, 'whoami', { scopes: ['calc'], description: 'who calls' }, async (extra) => {
        const auth = getAuthInfo(extra);
        return { content: [{ type: 'text' as const, text: JSON.stringify({ subject: auth.subject, jkt: auth.confirmation?.jkt }) }] };
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    });
    http.on('request', (req, res) => {
      if (serveMetadata(req, res)) return;
      void handle(req, res);
    });
    return {
      mcpUrl,
      mcpAgent,
      async close() {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      },
    };
  }

  /** The same bound token as a bearer token: refused by the MCP server (RFC 9449 §7.1). */
  async function asBearer(mcpUrl: string, token: string): Promise<Response> {
    return fetch(mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
  }

  test('DP-14 DP-20 the unmodified MCP SDK client with createDpopFetch: DPoP token from the AS (nonce), DPoP calls to an SDK MCP server (nonce); the same token as Bearer is refused', async () => {
    const { mcpUrl, mcpAgent, close } = await startDpopMcpServer('mcp dpop agent');
    try {
      const prover = DpopProver.generate('ES256', { clock: server.clock.nowMs });
      const seen = recording();
      let bound = '';
      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
        authProvider: new ClientCredentialsProvider({ clientId: mcpAgent.clientId, clientSecret: mcpAgent.clientSecret, scope: 'calc', expectedIssuer: server.issuer }),
        fetch: createDpopFetch(prover, async (input, init) => {
          const auth = new Headers(init?.headers).get('authorization') ?? '';
          if (auth.startsWith('DPoP ')) bound = auth.slice(5);
          return seen.fetch(input, init);
        }),
      });
      const client = new Client({ name: 'dpop-agent', version: '1.0.0' });
      await client.connect(transport);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.deepEqual(JSON.parse((result.content as { text: string }[])[0]!.text), { subject: mcpAgent.clientId, jkt: prover.jkt });
      await client.close();
      assert.ok(seen.seen.includes('400 use_dpop_nonce'), `the AS asked for its nonce: ${seen.seen.join(', ')}`);
      assert.ok(seen.seen.includes('401 use_dpop_nonce'), `the MCP server asked for its nonce: ${seen.seen.join(', ')}`);
      assert.deepEqual(decodeJwt(bound).payload['cnf'], { jkt: prover.jkt });

      const refused = await asBearer(mcpUrl, bound);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
    } finally {
      await close();
    }
  });

  test('DP-14 DP-20 the SDK’s MCP client provider with its own dpop option (no createDpopFetch): bound token from the AS (nonce retry), DPoP calls to the MCP server (nonce retry); as Bearer it is refused', async () => {
    const { mcpUrl, mcpAgent, close } = await startDpopMcpServer('mcp provider dpop agent');
    try {
      const seen = recording();
      let bound = '';
      const provider = await McpOAuthClientProvider.create({
        serverUrl: mcpUrl,
        grantType: 'client_credentials',
        client: { clientId: mcpAgent.clientId, clientSecret: mcpAgent.clientSecret, issuer: server.issuer },
        clock: server.clock.nowMs,
        dpop: true,
        fetch: async (input, init) => {
          const auth = new Headers(init?.headers).get('authorization') ?? '';
          if (auth.startsWith('DPoP ')) bound = auth.slice(5);
          return seen.fetch(input, init);
        },
      });
      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: provider.fetch });
      const client = new Client({ name: 'dpop-provider-agent', version: '1.0.0' });
      await client.connect(transport);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.deepEqual(JSON.parse((result.content as { text: string }[])[0]!.text), { subject: mcpAgent.clientId, jkt: provider.dpop!.jkt });
      await client.close();
      assert.ok(seen.seen.includes('400 use_dpop_nonce'), `the AS asked for its nonce: ${seen.seen.join(', ')}`);
      assert.ok(seen.seen.includes('401 use_dpop_nonce'), `the MCP server asked for its nonce: ${seen.seen.join(', ')}`);
      assert.deepEqual(decodeJwt(bound).payload['cnf'], { jkt: provider.dpop!.jkt });
      const stored = await provider.tokenStore.get(mcpTokenSetKey(mcpUrl));
      assert.equal(stored?.tokenType, 'DPoP');
      assert.equal(stored?.dpopKey, undefined, 'the key stays in memory unless storeDpopKey');
      assert.equal((await asBearer(mcpUrl, bound)).status, 401);

      // Misuse: DPoP asked of the provider, but the transport was not given its fetch (the token request carries no
      // proof): refused before any unbound token is kept.
      const misused = await McpOAuthClientProvider.create({ serverUrl: mcpUrl, grantType: 'client_credentials', client: { clientId: mcpAgent.clientId, clientSecret: mcpAgent.clientSecret, issuer: server.issuer }, clock: server.clock.nowMs, dpop: true });
      const other = new Client({ name: 'misused', version: '1.0.0' });
      await assert.rejects(other.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: misused })), /provider\.fetch/);
      assert.equal(await misused.tokenStore.get(mcpTokenSetKey(mcpUrl)), undefined);
    } finally {
      await close();
    }
  });
});
