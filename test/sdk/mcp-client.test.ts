import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { sampleSandboxDir } from '../../examples/mcp-server/src/default-sandbox.ts';
import { Sandbox } from '../../examples/mcp-server/src/sandbox.ts';
import { type RunningDemoServer, startDemoMcpServer } from '../../examples/mcp-server/src/server.ts';
import { FileTokenStore } from '../../packages/sdk/src/agent/file-token-store.ts';
import { discoverResource } from '../../packages/sdk/src/discovery/discover-resource.ts';
import { connectWithAuthorization, mcpTokenSetKey, McpOAuthClientProvider, withAuthorization } from '../../packages/sdk/src/mcp/client/index.ts';
import type { McpOAuthClientOptions } from '../../packages/sdk/src/mcp/client/index.ts';
import { freePort, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, createApp, createUser } from '../../packages/server/test/helpers/user-flow.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

const textOf = (result: unknown) => ((result as { content: { text: string }[] }).content).map((c) => c.text).join('');

/**
 * The SDK's MCP client provider with the MCP TypeScript SDK's own client and transport, against the real
 * authorization server and the demo MCP server (both over HTTP, both in this process), with a pre-registered public
 * client: the first authorization asks for what the 401 names, a 403 steps up to the union of what was granted and
 * what the tool needs (the user consents through the real pages each time), the tokens are refreshed before they
 * expire and survive in a FileTokenStore.
 */
forEachStore('SDK MCP client provider against the authorization server and the demo MCP server', (fixture) => {
  let server: TestServer;
  let demo: RunningDemoServer;
  let sandboxDir: string;
  let storeDir: string;
  let userId: string;
  let app: { clientId: string };
  const email = 'lin@example.com';

  before(async () => {
    server = await startTestServer(fixture);
    sandboxDir = mkdtempSync(join(tmpdir(), 'mandate-sandbox-'));
    storeDir = mkdtempSync(join(tmpdir(), 'mandate-mcp-tokens-'));
    cpSync(sampleSandboxDir, sandboxDir, { recursive: true });
    const port = await freePort();
    const resource = `http://localhost:${port}/mcp`;
    const created = await server.admin('POST', '/resources', { resource, scopes: ['calc', 'files:read', { name: 'files:write', risk: 'medium' }, { name: 'exec', risk: 'high' }] });
    assert.equal(created.status, 201, await created.clone().text());
    demo = await startDemoMcpServer({ issuer: server.issuer, host: '127.0.0.1', port, resource, verify: { mode: 'jwt' }, sandboxDir }, { sandbox: await Sandbox.open(sandboxDir) });
    userId = await createUser(server, email);
    app = await createApp(server, { name: 'Desk Assistant', public: true, redirect_uris: ['http://127.0.0.1/callback'], scopes: ['calc', 'files:read', 'files:write'] });
  });
  after(async () => {
    await demo?.close();
    await server?.close();
    rmSync(sandboxDir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  });

  /** A provider whose "browser" signs the user in and consents through the real pages, recording each URL. */
  function providerFor(extra: Partial<McpOAuthClientOptions> = {}) {
    const browser = new Browser();
    const authorizations: URL[] = [];
    const consentPages: string[] = [];
    let now = 0;
    const options: McpOAuthClientOptions = {
      serverUrl: demo.resource,
      clientName: 'Desk Assistant',
      client: { clientId: app.clientId },
      // The server's frozen clock, which this provider alone moves on (the demo MCP server checks tokens on real time).
      clock: () => server.clock.nowMs() + now * 1000,
      async onAuthorizationUrl(url) {
        authorizations.push(new URL(url));
        const { location, consentPage } = await signInAndConsent(url.href, { email, browser });
        consentPages.push(consentPage);
        const back = await fetch(location);
        await back.body?.cancel();
      },
      ...extra,
    };
    return { options, authorizations, consentPages, advance: (seconds: number) => (now += seconds) };
  }

  test('MCP-C-01 discoverResource from the demo server’s URL alone: 401 scope → metadata → the authorization server', async () => {
    const found = await discoverResource(demo.resource, { probe: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } });
    assert.equal(found.issuer, server.issuer);
    assert.equal(found.resource, demo.resource);
    assert.equal(found.resourceMetadataUrl, demo.metadataUrl);
    assert.deepEqual(found.challenge?.scope, ['calc', 'files:read']);
  });

  test('MCP-C-03 first authorization asks for the 401’s scopes (+ offline_access); a 403 steps up to the union; every tool works on the one new token', async () => {
    const { options, authorizations, consentPages } = providerFor();
    const provider = await McpOAuthClientProvider.create(options);
    const client = new Client({ name: 'desk-assistant', version: '1.0.0' });
    try {
      const transport = await connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(demo.resource), { authProvider: provider }));
      assert.equal(authorizations.length, 1);
      const first = authorizations[0]!.searchParams;
      assert.equal(first.get('client_id'), app.clientId);
      assert.equal(first.get('scope'), 'calc files:read offline_access');
      assert.deepEqual(first.getAll('resource'), [demo.resource]);
      assert.equal(first.get('code_challenge_method'), 'S256');
      assert.match(first.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      assert.match(consentPages[0]!, /Desk Assistant/);

      const whoami = JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'whoami', arguments: {} }))));
      assert.equal(whoami.subject, userId);
      assert.deepEqual(JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })))), { sum: 5 });

      const written = await withAuthorization(provider, transport, () => client.callTool({ name: 'write_file', arguments: { path: 'from-mcp-client.txt', content: 'hello\n' } }));
      assert.equal(written.isError, undefined, textOf(written));
      assert.equal(authorizations.length, 2, 'one step-up');
      const stepUp = authorizations[1]!.searchParams.get('scope')?.split(' ').sort();
      assert.deepEqual(stepUp, ['calc', 'files:read', 'files:write', 'offline_access'], 'what was granted, and what the tool needs');
      const held = await provider.tokenStore.get(mcpTokenSetKey(demo.resource));
      assert.deepEqual([...decodeJwt(held!.accessToken).scope!.toString().split(' ')].sort(), ['calc', 'files:read', 'files:write', 'offline_access']);
      assert.deepEqual(JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })))), { sum: 2 });
      assert.equal(authorizations.length, 2, 'the earlier tools work with the stepped-up token');
      await transport.close();
    } finally {
      await provider.close();
    }
  });

  test('BCP-04 a new provider on the same FileTokenStore needs no sign-in; near expiry it refreshes (rotation, stored) instead of asking the user', async () => {
    const path = join(storeDir, 'tokens.json');
    const connect = async (provider: McpOAuthClientProvider, client: Client) =>
      connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(demo.resource), { authProvider: provider }));
    const earlier = providerFor({ tokenStore: new FileTokenStore(path) });
    const firstRun = await McpOAuthClientProvider.create(earlier.options);
    try {
      await (await connect(firstRun, new Client({ name: 'desk-assistant', version: '1.0.0' }))).close();
      assert.equal(earlier.authorizations.length, 1);
    } finally {
      await firstRun.close();
    }

    const tokenStore = new FileTokenStore(path);
    const before = await tokenStore.get(mcpTokenSetKey(demo.resource));
    assert.ok(before?.refreshToken, 'offline_access was granted');
    const { options, authorizations, advance } = providerFor({ tokenStore });
    const provider = await McpOAuthClientProvider.create(options);
    const client = new Client({ name: 'desk-assistant', version: '1.0.0' });
    try {
      const transport = await connect(provider, client);
      assert.equal(authorizations.length, 0, 'the stored token serves a new process');
      advance(before.expiresAt! - server.clock.now() - 10);
      assert.deepEqual(JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'add', arguments: { a: 4, b: 4 } })))), { sum: 8 });
      const after = await tokenStore.get(mcpTokenSetKey(demo.resource));
      assert.notEqual(after?.accessToken, before.accessToken);
      assert.notEqual(after?.refreshToken, before.refreshToken, 'rotated');
      assert.deepEqual(after?.scope, before.scope);
      assert.equal(authorizations.length, 0);
      const tokens = await provider.tokens();
      assert.equal(tokens?.refresh_token, undefined, 'the refresh token never reaches the MCP SDK');
      await transport.close();
    } finally {
      await provider.close();
    }
  });

  test('MCP-C-08 DCR-03 without a pre-registered client the provider registers itself (RFC 7591) at this AS, the consent page says so, and its tools work', async () => {
    const { options, authorizations, consentPages } = providerFor({ client: undefined });
    const provider = await McpOAuthClientProvider.create(options);
    try {
      const client = new Client({ name: 'desk-assistant', version: '1.0.0' });
      const transport = await connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(demo.resource), { authProvider: provider }));
      const clientId = authorizations[0]!.searchParams.get('client_id')!;
      assert.notEqual(clientId, app.clientId);
      assert.equal((await fixture.store.getClientRegistration(clientId))?.source, 'dynamic');
      assert.match(consentPages[0]!, /registered itself/);
      assert.deepEqual(JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'add', arguments: { a: 2, b: 2 } })))), { sum: 4 });
      await transport.close();
    } finally {
      await provider.close();
    }
  });

  test('DP-17 DP-18 with dpop: true the provider binds its tokens (dpop_jkt on the authorization URL), calls with DPoP and refreshes them bound; with storeDpopKey a new provider on the same FileTokenStore presents them, without it the key is gone and the user authorizes again', async () => {
    const connect = (provider: McpOAuthClientProvider, client: Client) =>
      connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(demo.resource), { authProvider: provider, fetch: provider.fetch }));
    const add = async (provider: McpOAuthClientProvider, transport: StreamableHTTPClientTransport, client: Client, a: number) =>
      JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'add', arguments: { a, b: 1 } })))) as { sum: number };
    const key = mcpTokenSetKey(demo.resource);
    /** One process: a provider on the file, one connection, one call; what it had to authorize. */
    const run = async (path: string, extra: Partial<McpOAuthClientOptions>, during?: (provider: McpOAuthClientProvider, transport: StreamableHTTPClientTransport, client: Client) => Promise<void>) => {
      const { options, authorizations } = providerFor({ tokenStore: new FileTokenStore(path), dpop: true, ...extra });
      const provider = await McpOAuthClientProvider.create(options);
      const client = new Client({ name: 'desk-assistant', version: '1.0.0' });
      try {
        const transport = await connect(provider, client);
        assert.deepEqual(await add(provider, transport, client, 1), { sum: 2 });
        await during?.(provider, transport, client);
        await transport.close();
        return { authorizations, jkt: provider.dpop!.jkt };
      } finally {
        await provider.close();
      }
    };

    const kept = join(storeDir, 'dpop-kept.json');
    const first = await run(kept, { storeDpopKey: true }, async (provider, transport, client) => {
      const set = (await provider.tokenStore.get(key))!;
      assert.equal(set.tokenType, 'DPoP');
      assert.deepEqual(decodeJwt(set.accessToken)['cnf'], { jkt: provider.dpop!.jkt });
      assert.ok(set.dpopKey, 'stored with its key, as asked');
      // The set ages (its recorded expiry moved to the time it was obtained): the next call refreshes it first, with a proof.
      await provider.tokenStore.set(key, { ...set, expiresAt: set.updatedAt });
      assert.deepEqual(await add(provider, transport, client, 2), { sum: 3 });
      const refreshed = (await provider.tokenStore.get(key))!;
      assert.notEqual(refreshed.refreshToken, set.refreshToken, 'rotated');
      assert.equal(refreshed.tokenType, 'DPoP');
      assert.deepEqual(decodeJwt(refreshed.accessToken)['cnf'], { jkt: provider.dpop!.jkt }, 'still bound to the key');
    });
    assert.equal(first.authorizations.length, 1);
    assert.equal(first.authorizations[0]!.searchParams.get('dpop_jkt'), first.jkt, 'RFC 9449 §10: the code is bound to the key');
    const second = await run(kept, { storeDpopKey: true });
    assert.equal(second.authorizations.length, 0, 'a new process presents the stored tokens with the stored key');
    assert.equal(second.jkt, first.jkt);

    const memoryOnly = join(storeDir, 'dpop-memory.json');
    const third = await run(memoryOnly, {});
    assert.equal(third.authorizations.length, 1);
    assert.equal((await new FileTokenStore(memoryOnly).get(key))?.dpopKey, undefined, 'by default the key never reaches the store');
    const fourth = await run(memoryOnly, {});
    assert.equal(fourth.authorizations.length, 1, 'the bound tokens left without their key are not used: the user authorizes again');
    assert.notEqual(fourth.jkt, third.jkt);
  });
});
