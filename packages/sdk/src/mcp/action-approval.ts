import { argumentsSha256, mcpToolDetails } from '@mandate/protocol';
import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import { ActionNotApproved, ActionTokenUsed, ActionUseFailed, MetadataInvalid } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';
import type { AuthInfo } from '../verify/auth-info.ts';

/**
 * Per-action approvals at the MCP server (issue 12 item 4). A tool marked as needing one runs only with a token
 * whose RFC 9396 `mcp_tool` authorization detail names this server, this tool and the SHA-256 of the canonical JSON
 * of these arguments; and the token is single-use: before the tool runs, its use is recorded at the authorization
 * server (`action_uses_endpoint`, with the resource's API key), which answers "already used" to every later use,
 * whichever instance of the MCP server it reaches. A token carrying an action is good for that action only.
 */

/** Options of {@link createActionUseRecorder}. */
export interface ActionUseRecorderOptions extends HttpOptions {
  /** The authorization server; its `action_uses_endpoint` is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** The resource server's API key (`mrk_…`), as for introspection. */
  apiKey: string;
}

/** Records the one use of action tokens at the authorization server. */
export interface ActionUseRecorder {
  /**
   * Records the use of `token` for `tool` with arguments hashing to `argumentsSha256`. Resolves on the first use;
   * rejects with {@link ActionTokenUsed} on any later one, {@link ActionNotApproved} when the authorization server
   * finds the token approves another call, {@link ActionUseFailed} when the use could not be recorded.
   */
  record(token: string, tool: string, argumentsSha256: string): Promise<void>;
}

/**
 * Creates the recorder the MCP adapter calls before a tool runs on an action token.
 *
 * @example
 * const mcpAuth = createMcpAuth({ verifier, actionApproval: { recorder: createActionUseRecorder({ issuer, apiKey }), tools: ['run_command'] } });
 * @see https://www.rfc-editor.org/rfc/rfc9396
 */
export function createActionUseRecorder(options: ActionUseRecorderOptions): ActionUseRecorder {
  assertIssuerIdentifier(options.issuer);
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey must be the resource server’s API key');
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const metadata = cachedMetadata(options.issuer, http);
  return {
    async record(token, tool, hash) {
      const endpoint = (await metadata()).action_uses_endpoint;
      if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) throw new MetadataInvalid('action_uses_endpoint');
      let answer;
      try {
        answer = await fetchJson(
          endpoint,
          { method: 'POST', headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ token, tool, arguments_sha256: hash }) },
          http,
        );
      } catch (cause) {
        throw new ActionUseFailed(`could not reach ${endpoint}`, { cause });
      }
      if (answer.status === 200) return;
      const body = isJsonObject(answer.json) ? answer.json : {};
      const description = typeof body['error_description'] === 'string' ? body['error_description'] : undefined;
      if (body['error'] === 'action_token_used') throw new ActionTokenUsed(description);
      if (body['error'] === 'action_mismatch') throw new ActionNotApproved(description ?? 'the token approves another call', { tool, argumentsSha256: hash, resource: undefined });
      if (body['error'] === 'invalid_token') throw new ActionTokenUsed(description ?? 'the action token is no longer active');
      throw new ActionUseFailed(`${endpoint} answered ${answer.status}${typeof body['error'] === 'string' ? ` ${body['error']}` : ''}`);
    },
  };
}

/** What the adapter knows of one `tools/call` request. */
export interface ToolCallFacts {
  tool: string;
  argumentsSha256: string;
}

/** The `tools/call` requests of a JSON-RPC body (one message or a batch), with their arguments' hashes. */
export function toolCallsOf(body: unknown): ToolCallFacts[] {
  const calls: ToolCallFacts[] = [];
  for (const message of Array.isArray(body) ? body : [body]) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
    if (method !== 'tools/call' || typeof params?.name !== 'string') continue;
    let hash: string;
    try {
      hash = argumentsSha256(params.arguments);
    } catch {
      // Arguments JSON cannot carry (parsed JSON always can): nothing approves them.
      hash = '';
    }
    calls.push({ tool: params.name, argumentsSha256: hash });
  }
  return calls;
}

/**
 * Checks one tool call against the token: a token carrying `mcp_tool` details is good only for a call they name
 * (at this resource: one of `audiences`, the verifier's), and a tool in `approvalTools` runs only with such a token. Returns the detail to record the
 * use of, or null when the call needs no per-action approval.
 */
export function actionFor(auth: AuthInfo, call: ToolCallFacts, approvalTools: ReadonlySet<string>, audiences: readonly string[]): ToolCallFacts | null {
  const details = mcpToolDetails(auth.claims.authorization_details);
  const resource = audiences[0];
  // The detail's location must be this server (one of the verifier's audiences), not merely another audience of the token.
  const here = details.filter((d) => audiences.some((aud) => d.locations.includes(aud)));
  if (details.length === 0) {
    if (!approvalTools.has(call.tool)) return null;
    throw new ActionNotApproved(`tool ${call.tool} needs a per-action approval: ask for one (RFC 9396 authorization_details of type mcp_tool) and call with the token it yields`, { ...call, resource });
  }
  const forTool = here.filter((d) => d.tool === call.tool);
  if (forTool.length === 0) throw new ActionNotApproved(`the token approves ${details.map((d) => d.tool).join(', ')}${here.length === 0 ? ' at another server' : ''}, not ${call.tool}`, { ...call, resource });
  if (!forTool.some((d) => d.arguments_sha256 === call.argumentsSha256)) throw new ActionNotApproved(`the token approves ${call.tool} with other arguments`, { ...call, resource });
  return call;
}
