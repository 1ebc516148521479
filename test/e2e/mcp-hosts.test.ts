import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import { connectWithAuthorization, FileClientRegistrationStore, headlessBrowser, mcpTokenSetKey, McpOAuthClientProvider, withAuthorization } from '../../packages/sdk/src/mcp/client/index.ts';
import { runCliJson } from '../helpers/processes.ts';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { Browser } from '../../packages/server/test/helpers/user-flow.ts';
import type { McpServerProcess } from '../helpers/demo-processes.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { type McpStack, startMcpStack } from '../helpers/mcp-stack.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content.map((c) => c.text).join('');
const scopesOf = (accessToken: string) => String(decodeJwt(accessToken).scope).split(' ').sort();

/**
 * A host's own OAuthClientProvider, written the way the MCP SDK's examples write one (Claude Code, VS Code and
 * Cursor ship their own like it): it keeps what the SDK gives it in memory and leaves everything else — discovery,
 * the choice of registration, scopes, PKCE, the token request — to the SDK's `auth()`. Its "browser" is the test's
 * scripted user agent; the code is taken from the redirect back to its loopback redirect URI.
 */
class HostProvider implements OAuthClientProvider {
  readonly authorizations: URL[] = [];
  readonly codes: string[] = [];
  information: OAuthClientInformationMixed | undefined;
  tokenSet: OAuthTokens | undefined;
  readonly redirectUrl: string;
  readonly #browse: (authorizationUrl: URL) => Promise<string>;
  #verifier: string | undefined;
  constructor(redirectUrl: string, browse: (authorizationUrl: URL) => Promise<string>) {
    this.redirectUrl = redirectUrl;
    this.#browse = browse;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'A host on the MCP SDK',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  tokens() {
    return this.tokenSet;
  }
  saveTokens(tokens: OAuthTokens) {
    this.tokenSet = tokens;
  }
  async redirectToAuthorization(authorizationUrl: URL) {
    this.authorizations.push(authorizationUrl);
    const back = new URL(await this.#browse(authorizationUrl));
    assert.equal(`${back.origin}${back.pathname}`, this.redirectUrl);
    assert.equal(back.searchParams.get('state'), authorizationUrl.searchParams.get('state'));
    this.codes.push(back.searchParams.get('code') ?? assert.fail(`no code in ${back.href}`));
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier ?? assert.fail('no code verifier saved');
  }
}

/**
 * Issue 9's acceptance, every part its own process or listener over real HTTP: `mandate serve` (on SQLite and on
 * PostgreSQL; default settings but for the development setting that lets it fetch Client ID Metadata Documents from
 * http://localhost), the demo MCP server (`examples/mcp-server`), and MCP clients that nobody registered beforehand:
 * discovery from the 401 → registration (RFC 7591, or a Client ID Metadata Document served here) → code + PKCE, the
 * user signing in and consenting through the real pages → tools → 403 `insufficient_scope` for `write_file` →
 * re-authorization → the retried call and the earlier tools on the one new token.
 *
 * The step-up of a host's own provider (the MCP SDK's `auth()` alone) is not here: the SDK registers with the 401's
 * scopes, the AS then limits the client to them, and the re-authorization for `files:write` is granted only the
 * scopes it already had (docs/interop.md). The SDK's provider registers with every scope of the resource and steps up.
 */
forEachStore('MCP hosts connect with no setup: the MCP SDK client through `mandate serve` to the demo MCP server', (fixture) => {
  const email = 'hosts@example.com';
  let stack: McpStack;
  let mcp: McpServerProcess;
  let userId: string;
  let documents: Server;
  let documentOrigin: string;
  let document: Record<string, unknown> | undefined;
  const documentRequests: string[] = [];

  before(async () => {
    stack = await startMcpStack(fixture.url, email, { MANDATE_CLIENT_METADATA_ALLOW_HTTP_LOCALHOST: 'true' });
    ({ mcp, userId } = stack);
    // The client's own web server, where its Client ID Metadata Document lives (the AS fetches it from here).
    documents = createServer((req, res) => {
      documentRequests.push(req.url ?? '');
      if (req.url !== '/oauth/client.json' || document === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
    });
    await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
    documentOrigin = `http://localhost:${(documents.address() as AddressInfo).port}`;
  });
  after(async () => {
    documents?.close();
    await stack?.stop();
  });

  /** The user at the AS: signs in once per browser, then answers each consent page; resolves with the way back. */
  function userAgent(browser: Browser, consentPages: string[]) {
    return async (url: URL) => {
      const { location, consentPage } = await signInAndConsent(url.href, { email, browser });
      consentPages.push(consentPage);
      return location;
    };
  }

  /**
   * A host on the unmodified MCP SDK, unregistered, connects: the 401 makes the SDK's `auth()` register the client
   * (RFC 7591) and show the authorization URL; the user signs in and consents; the code is redeemed; a new transport
   * connects (one whose `initialize` was refused cannot start again).
   */
  async function connectHost() {
    const consentPages: string[] = [];
    const provider = new HostProvider(`http://127.0.0.1:${await freePort()}/callback`, userAgent(new Browser(), consentPages));
    const client = new Client({ name: 'plain-host', version: '1.0.0' });
    const refused = new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider });
    await assert.rejects(client.connect(refused), UnauthorizedError, 'the 401 starts an authorization');
    await refused.finishAuth(provider.codes[0]!);
    const transport = new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider });
    await client.connect(transport);
    return { provider, client, transport, consentPages };
  }

  test('MCP-C-08 DCR: a host’s own provider on the unmodified MCP SDK registers (RFC 7591), the user signs in and consents, the tools work', async () => {
    const { provider, client, transport, consentPages } = await connectHost();
    try {
      const clientId = provider.information?.client_id;
      assert.match(String(clientId), /^app_/, 'registered');
      const first = provider.authorizations[0]!.searchParams;
      assert.equal(first.get('client_id'), clientId);
      assert.equal(first.get('code_challenge_method'), 'S256');
      assert.equal(first.get('scope'), 'calc files:read', 'the 401’s scopes');
      assert.deepEqual(first.getAll('resource'), [mcp.resource]);
      assert.match(consentPages[0]!, /A host on the MCP SDK/);
      assert.equal(JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).subject, userId);
      assert.deepEqual(JSON.parse(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))), { sum: 5 });
      assert.equal(JSON.parse(textOf(await client.callTool({ name: 'list_files', arguments: {} }))).entries.length > 0, true);
      assert.deepEqual(scopesOf(provider.tokenSet!.access_token), ['calc', 'files:read']);
    } finally {
      await transport.close();
    }
  });

  test('MCP-AS-02 CIMD: the SDK’s McpOAuthClientProvider uses its Client ID Metadata Document as client_id; the AS fetches it; step-up keeps the union on one token', async () => {
    const consentPages: string[] = [];
    const clientMetadataUrl = `${documentOrigin}/oauth/client.json`;
    const provider = await McpOAuthClientProvider.create({
      serverUrl: mcp.resource,
      clientName: 'Desk Assistant',
      clientMetadataUrl,
      onAuthorizationUrl: headlessBrowser({ userAgent: userAgent(new Browser(), consentPages) }),
    });
    document = provider.clientMetadataDocument();
    documentRequests.length = 0;
    const client = new Client({ name: 'desk-assistant', version: '1.0.0' });
    try {
      const transport = await connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider }));
      assert.deepEqual(documentRequests, ['/oauth/client.json'], 'the AS fetched the document');
      assert.match(consentPages[0]!, /Desk Assistant/);
      assert.ok(consentPages[0]!.includes(`published on <strong>${new URL(clientMetadataUrl).host}</strong>`), 'the consent page shows the document’s host');
      assert.deepEqual(JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })))), { sum: 5 });
      const written = await withAuthorization(provider, transport, () => client.callTool({ name: 'write_file', arguments: { path: 'from-cimd.txt', content: 'hi\n' } }));
      assert.equal(written.isError, undefined, textOf(written));
      assert.equal(consentPages.length, 2, 'one step-up');
      const held = await provider.tokenStore.get(mcpTokenSetKey(mcp.resource));
      assert.equal(held?.clientId, clientMetadataUrl);
      assert.deepEqual(scopesOf(held!.accessToken).filter((s) => s !== 'offline_access'), ['calc', 'files:read', 'files:write']);
      assert.equal(JSON.parse(textOf(await withAuthorization(provider, transport, () => client.callTool({ name: 'whoami', arguments: {} })))).subject, userId);
      assert.equal((await provider.tokenStore.get(mcpTokenSetKey(mcp.resource)))?.accessToken, held!.accessToken, 'the earlier tools on the same token');
      await transport.close();
    } finally {
      await provider.close();
    }
  });

  test('DCR-03 the SDK’s McpOAuthClientProvider registers once (RFC 7591) and keeps it in a FileClientRegistrationStore: the next run signs in with the same client_id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-hosts-registrations-'));
    const registrations = join(dir, 'registrations.json');
    const run = async () => {
      const consentPages: string[] = [];
      const provider = await McpOAuthClientProvider.create({
        serverUrl: mcp.resource,
        clientName: 'Notes Host',
        registrationStore: new FileClientRegistrationStore(registrations),
        onAuthorizationUrl: headlessBrowser({ userAgent: userAgent(new Browser(), consentPages) }),
      });
      const client = new Client({ name: 'notes-host', version: '1.0.0' });
      try {
        const transport = await connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider }));
        const written = await withAuthorization(provider, transport, () => client.callTool({ name: 'write_file', arguments: { path: 'from-notes.txt', content: 'n\n' } }));
        assert.equal(written.isError, undefined, textOf(written));
        await transport.close();
        return { clientId: (await provider.tokenStore.get(mcpTokenSetKey(mcp.resource)))!.clientId, consentPages };
      } finally {
        await provider.close();
      }
    };
    const registered = async () => (await runCliJson<{ client_id: string; name: string }[]>(['client', 'list'], stack.env)).filter((c) => c.name === 'Notes Host');
    try {
      const first = await run();
      assert.match(first.consentPages[0]!, /Notes Host/);
      assert.deepEqual((await registered()).map((c) => c.client_id), [first.clientId]);
      const second = await run();
      assert.equal(second.clientId, first.clientId, 'the registration was kept');
      assert.equal((await registered()).length, 1, 'and not made again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
