/**
 * The MCP client the MCP conformance suite drives in `client` mode (`conformance client --command "node
 * test/interop/conformance-client.ts"`): the MCP TypeScript SDK's client and transport with the SDK's
 * `McpOAuthClientProvider`. The suite appends the server URL and says what it runs in the environment:
 * `MCP_CONFORMANCE_SCENARIO`, `MCP_CONFORMANCE_PROTOCOL_VERSION` and `MCP_CONFORMANCE_CONTEXT` (JSON: credentials
 * of a pre-registered client, a private key for `private_key_jwt`).
 *
 * The "browser" is the SDK's `headlessBrowser()`: the authorization URL is fetched without following redirects, and
 * the `Location` it answers with is requested from the provider's loopback listener, which checks `state` and `iss`
 * as it would for a real browser. The suite's authorization server signs nobody in; it redirects at once.
 *
 * MCP 2026-07-28 is stateless on the wire (no `initialize`; `MCP-Protocol-Version` and `_meta` on every request),
 * which the MCP SDK 1.x client does not speak yet, so for that version the requests go through the SDK's transport
 * as JSON-RPC messages built here. Authorization is the same either way: the transport and the provider.
 */
import { createPrivateKey } from 'node:crypto';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { connectWithAuthorization, headlessBrowser, McpOAuthClientProvider, withAuthorization } from '../../packages/sdk/src/mcp/client/index.ts';
import type { McpOAuthClientOptions } from '../../packages/sdk/src/mcp/client/index.ts';

/** The Client ID Metadata Document URL the suite expects a client to use where the AS supports them. */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
const STATELESS_VERSION = '2026-07-28';

interface ConformanceContext {
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
  /** auth/wif-jwt-bearer: the workload's JWT for this authorization server. */
  valid_jwt?: string;
  /** auth/enterprise-managed-authorization: the identity provider, this client there, and the user's ID token. */
  idp_client_id?: string;
  idp_id_token?: string;
  idp_token_endpoint?: string;
}

function providerOptions(serverUrl: string, scenario: string, context: ConformanceContext): McpOAuthClientOptions {
  const options: McpOAuthClientOptions = {
    serverUrl,
    clientName: 'Mandate SDK conformance client',
    clientMetadataUrl: CLIENT_METADATA_URL,
    onAuthorizationUrl: headlessBrowser(),
    // The suite's mock servers share a loaded CI machine with everything else: the SDK's 5 s default per request
    // is a production setting, and a slow answer here is not what the suite checks.
    httpTimeoutMs: 60_000,
  };
  if (context.client_id !== undefined) {
    options.client = { clientId: context.client_id };
    if (context.client_secret !== undefined) options.client.clientSecret = context.client_secret;
    if (context.private_key_pem !== undefined) {
      options.client.privateKey = createPrivateKey(context.private_key_pem);
      if (context.signing_algorithm !== undefined) options.client.privateKeyAlg = context.signing_algorithm;
    }
  }
  // The DPoP scenarios (SEP-1932, RFC 9449): the provider's own option; its `fetch`, given to the transport, makes
  // token requests DPoP requests and sends the bound token with the DPoP scheme and a fresh proof, nonces included.
  if (scenario.startsWith('auth/dpop')) options.dpop = true;
  // The client-credentials extension (io.modelcontextprotocol/oauth-client-credentials): the client acts as itself.
  if (scenario.startsWith('auth/client-credentials')) options.grantType = 'client_credentials';
  // Workload identity federation (SEP-1933): the workload's JWT is the jwt-bearer assertion.
  if (scenario === 'auth/wif-jwt-bearer' && context.valid_jwt !== undefined) {
    options.grantType = 'jwt-bearer';
    options.assertion = context.valid_jwt;
  }
  // Enterprise-managed authorization (SEP-990): ID token → ID-JAG at the IdP → jwt-bearer at the MCP server's AS.
  if (scenario === 'auth/enterprise-managed-authorization' && context.idp_token_endpoint !== undefined && context.idp_client_id !== undefined && context.idp_id_token !== undefined) {
    options.grantType = 'enterprise-managed';
    options.identityProvider = { tokenEndpoint: context.idp_token_endpoint, clientId: context.idp_client_id, idToken: context.idp_id_token };
  }
  return options;
}

/** MCP 2025-11-25: the SDK's own client, connecting and calling as usual. */
async function runStateful(provider: McpOAuthClientProvider): Promise<void> {
  // Loaded only here: the suite starts this script once per scenario, and most runs never need the Client.
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const client = new Client({ name: 'mandate-conformance-client', version: '1.0.0' }, { capabilities: {} });
  const transport = await connectWithAuthorization(provider, client, () => new StreamableHTTPClientTransport(new URL(provider.serverUrl), { authProvider: provider, fetch: provider.fetch }));
  try {
    await withAuthorization(provider, transport, () => client.listTools());
    await withAuthorization(provider, transport, () => client.callTool({ name: 'test-tool', arguments: {} }));
  } finally {
    await transport.close();
  }
}

/** MCP 2026-07-28: JSON-RPC requests with the per-request `_meta`, through the SDK's transport and its auth provider. */
async function runStateless(provider: McpOAuthClientProvider): Promise<void> {
  const transport = new StreamableHTTPClientTransport(new URL(provider.serverUrl), { authProvider: provider, fetch: provider.fetch });
  const waiting = new Map<string | number, { resolve(message: JSONRPCMessage): void; reject(err: Error): void }>();
  transport.onmessage = (message) => {
    const id = 'id' in message ? message.id : undefined;
    if (id !== undefined && id !== null) waiting.get(id)?.resolve(message);
  };
  await transport.start();
  transport.setProtocolVersion(STATELESS_VERSION);
  let nextId = 1;
  const request = (method: string, params: Record<string, unknown>) => async () => {
    const id = nextId++;
    const answered = new Promise<JSONRPCMessage>((resolve, reject) => waiting.set(id, { resolve, reject }));
    const _meta = {
      'io.modelcontextprotocol/protocolVersion': STATELESS_VERSION,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'mandate-conformance-client', version: '1.0.0' },
    };
    try {
      await transport.send({ jsonrpc: '2.0', id, method, params: { ...params, _meta } });
      const message = await answered;
      if ('error' in message) throw new Error(`${method} failed: ${JSON.stringify(message.error)}`);
      return message;
    } finally {
      waiting.delete(id);
    }
  };
  try {
    await withAuthorization(provider, transport, request('tools/list', {}));
    await withAuthorization(provider, transport, request('tools/call', { name: 'test-tool', arguments: {} }));
  } finally {
    await transport.close();
  }
}

async function main(): Promise<void> {
  const serverUrl = process.argv[2];
  if (serverUrl === undefined) throw new Error('usage: conformance-client.ts <server-url>');
  const scenario = process.env['MCP_CONFORMANCE_SCENARIO'] ?? '';
  const context = JSON.parse(process.env['MCP_CONFORMANCE_CONTEXT'] ?? '{}') as ConformanceContext;
  const provider = await McpOAuthClientProvider.create(providerOptions(serverUrl, scenario, context));
  try {
    if (process.env['MCP_CONFORMANCE_PROTOCOL_VERSION'] === STATELESS_VERSION) await runStateless(provider);
    else await runStateful(provider);
  } finally {
    await provider.close();
  }
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown }).code;
  process.stderr.write(`conformance client: ${typeof code === 'string' ? `${code} ` : ''}${(err as Error).message ?? String(err)}\n`);
  process.exitCode = 1;
});
