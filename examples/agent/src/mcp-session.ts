import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AgentAuthClient } from '@mandate/sdk/agent';
import { isMandateError } from '@mandate/sdk/errors';
import { protectedResourceMetadataUrl } from '@mandate/sdk/metadata';
import type { Reporter } from './reporter.ts';

/**
 * The agent's connection to one MCP server, authenticated as the agent itself (or, with a `tokenSource`, with a
 * user's token delegated to it): `AgentAuthClient` gets a
 * `client_credentials` token for exactly this server (RFC 8707 `resource`), caches it and renews it before it
 * expires; every HTTP request of the MCP client carries the current one. When the server refuses a token as
 * `invalid_token` (revoked, expired, agent disabled), the cached token is dropped and the request is sent once more
 * with a fresh one; if the AS then refuses to issue one, that is the call's outcome.
 */

export interface SessionOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The MCP server's URL, which is also its resource identifier. */
  mcpUrl: string;
  /** Scopes to ask for (least privilege: only what the plan needs). */
  scope: string;
  reporter: Reporter;
  fetch?: typeof fetch;
  /** Current time in milliseconds, which decides when the agent's own token is renewed. Default `Date.now`. */
  clock?: () => number;
  /** Where the bearer tokens come from. Default: the agent's own (`client_credentials` for this server). */
  tokenSource?: TokenSource;
}

/** The tokens a session sends: the agent's own, or a user's delegated to it (on-behalf-of). */
export interface TokenSource {
  /** Who the tokens speak for, for the log line (never the token). */
  describe: string;
  get(): Promise<{ accessToken: string; scope: string[]; expiresAt?: number }>;
  /** Drops the current token after the server refused it as `invalid_token`. */
  invalidate(): void;
}

/** What became of one tool call. */
export type ToolOutcome =
  /** The tool's text, and its parsed value when the text is JSON. */
  | { ok: true; kind: 'result'; text: string; value?: unknown }
  /** The tool ran and reported an error (`isError`), e.g. a path outside the sandbox. */
  | { ok: false; kind: 'tool_error'; message: string }
  /** The MCP server refused the request at the HTTP layer (RFC 6750 §3.1): 401 or 403, with its challenge. */
  | { ok: false; kind: 'refused'; status: number; error?: string; scope?: string; description?: string }
  /** The authorization server refused to issue a token (e.g. `invalid_client` for a disabled agent). */
  | { ok: false; kind: 'token_refused'; error: string; description?: string }
  | { ok: false; kind: 'failed'; message: string };

export interface McpSession {
  tools(): Promise<Tool[]>;
  call(name: string, args: Record<string, unknown>): Promise<ToolOutcome>;
  close(): Promise<void>;
}

/** The parameters of a `WWW-Authenticate: Bearer …` challenge (our servers never escape quotes in them). */
export function parseBearerChallenge(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (header === null || !/^Bearer\b/i.test(header)) return params;
  for (const [, name, value] of header.matchAll(/([a-z_]+)="([^"]*)"/gi)) params[name!] = value!;
  return params;
}

/** RFC 9728 §3.3: the metadata must name this very resource, and our AS must be among its authorization servers. */
async function checkProtectedResource(options: SessionOptions, fetchImpl: typeof fetch): Promise<void> {
  const url = protectedResourceMetadataUrl(options.mcpUrl);
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const metadata = (await response.json()) as { resource?: unknown; authorization_servers?: unknown; scopes_supported?: unknown };
  if (metadata.resource !== options.mcpUrl) throw new Error(`${url} describes ${String(metadata.resource)}, not ${options.mcpUrl}`);
  const servers = Array.isArray(metadata.authorization_servers) ? metadata.authorization_servers : [];
  // The client secret goes only to the AS we were configured with, never to one a resource names.
  if (!servers.includes(options.issuer)) throw new Error(`${options.mcpUrl} does not accept tokens from ${options.issuer} (it names ${servers.join(', ') || 'none'})`);
  options.reporter.event('discovered', { resource: metadata.resource, authorization_servers: servers, scopes_supported: metadata.scopes_supported ?? [] }, `resource ${options.mcpUrl} accepts tokens from ${options.issuer}`);
}

/** The agent acting as itself: its own token for exactly this server, cached and renewed by `AgentAuthClient`. */
function agentTokenSource(options: SessionOptions, fetchImpl: typeof fetch): TokenSource {
  const agent = new AgentAuthClient({
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    fetch: fetchImpl,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const tokenRequest = { scope: options.scope, resource: options.mcpUrl };
  return { describe: options.clientId, get: () => agent.getAgentToken(tokenRequest), invalidate: () => agent.invalidate(tokenRequest) };
}

export async function openMcpSession(options: SessionOptions): Promise<McpSession> {
  const fetchImpl = options.fetch ?? fetch;
  const { reporter } = options;
  await checkProtectedResource(options, fetchImpl);

  const source = options.tokenSource ?? agentTokenSource(options, fetchImpl);
  let currentToken: string | undefined;
  let lastChallenge: { status: number; params: Record<string, string> } | undefined;

  const bearer = async (): Promise<string> => {
    const token = await source.get();
    if (token.accessToken !== currentToken) {
      currentToken = token.accessToken;
      const expires = token.expiresAt === undefined ? 'unknown' : new Date(token.expiresAt * 1000).toISOString();
      // Never the token itself: only what it grants.
      reporter.event('token', { scope: token.scope, resource: options.mcpUrl, expires_at: expires }, `token for ${source.describe}: scope "${token.scope.join(' ')}", expires ${expires}`);
    }
    return token.accessToken;
  };

  const authorizedFetch: FetchLike = async (input, init) => {
    const send = async () => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await bearer()}`);
      return fetchImpl(input, { ...init, headers });
    };
    let response = await send();
    const challenge = () => parseBearerChallenge(response.headers.get('www-authenticate'));
    if (response.status === 401 && challenge()['error'] === 'invalid_token') {
      reporter.event('token_rejected', { description: challenge()['error_description'] ?? null }, `the server refused the token (${challenge()['error_description'] ?? 'invalid_token'}); getting a new one`);
      source.invalidate();
      currentToken = undefined;
      response = await send();
    }
    if (response.status === 401 || response.status === 403) lastChallenge = { status: response.status, params: challenge() };
    return response;
  };

  const transport = new StreamableHTTPClientTransport(new URL(options.mcpUrl), { fetch: authorizedFetch });
  const client = new Client({ name: 'mandate-demo-agent', version: '0.1.0' });
  await client.connect(transport);

  return {
    async tools() {
      return (await client.listTools()).tools;
    },
    async call(name, args) {
      lastChallenge = undefined;
      try {
        const result = await client.callTool({ name, arguments: args });
        const content = Array.isArray(result.content) ? result.content : [];
        const text = content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
        if (result.isError === true) return { ok: false, kind: 'tool_error', message: text };
        try {
          return { ok: true, kind: 'result', text, value: JSON.parse(text) };
        } catch {
          return { ok: true, kind: 'result', text };
        }
      } catch (err) {
        if (isMandateError(err) && err.code === 'ERR_TOKEN_REQUEST_FAILED') {
          const error = err.error ?? (err.status === 0 ? 'unreachable' : `http_${err.status}`);
          return { ok: false, kind: 'token_refused', error, description: err.errorDescription ?? err.message };
        }
        if (err instanceof StreamableHTTPError && lastChallenge !== undefined) {
          const { params, status } = lastChallenge;
          return {
            ok: false,
            kind: 'refused',
            status,
            ...(params['error'] ? { error: params['error'] } : {}),
            ...(params['scope'] ? { scope: params['scope'] } : {}),
            ...(params['error_description'] ? { description: params['error_description'] } : {}),
          };
        }
        return { ok: false, kind: 'failed', message: (err as Error).message };
      }
    },
    async close() {
      await client.close();
    },
  };
}
