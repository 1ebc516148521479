/**
 * Authorization for MCP servers built with `@modelcontextprotocol/sdk` 1.x over Streamable HTTP.
 *
 * Why the scope check happens before the MCP transport: MCP authorization (2025-11-25 and 2026-07-28, "Scope
 * Challenge Handling"; MCP-RS-03) wants a call that needs more scope to fail at the HTTP layer, as 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…", resource_metadata="…"`, so that the client can
 * step up. Inside a tool handler it is too late: the MCP SDK turns a thrown error into a JSON-RPC result with
 * `isError`, inside a 200. So each tool's scopes are declared next to the tool ({@link McpAuth.registerTool}), and
 * the HTTP guard reads the JSON-RPC body, finds `tools/call` requests and checks their scopes first.
 *
 * The verified `AuthInfo` goes on `req.auth`, which the MCP SDK's `StreamableHTTPServerTransport` passes to every
 * handler as `extra.authInfo`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer, RegisteredTool, ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AnySchema, ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { AuthInfo as McpAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { authenticateCredentials, rejectionFor, rejectionResponse } from '../challenge/authenticate-request.ts';
import type { AuthenticateOptions, AuthOutcome } from '../challenge/authenticate-request.ts';
import type { CredentialSources } from '../challenge/extract-token.ts';
import { ActionUseFailed, type AnyMandateError, InsufficientScope, isMandateError } from '../errors.ts';
import { type ActionUseRecorder, actionFor, type ToolCallFacts, toolCallsOf } from './action-approval.ts';
import type { ToolCallEvent, ToolCallReporter } from './tool-call-reporter.ts';
import { checkAuthenticateOptions, credentialSources, writeRejection } from '../middleware/node.ts';
import type { Next } from '../middleware/node.ts';
import type { AuthInfo } from '../verify/auth-info.ts';

export { createActionUseRecorder } from './action-approval.ts';
export type { ActionUseRecorder, ActionUseRecorderOptions } from './action-approval.ts';
export { createToolCallReporter } from './tool-call-reporter.ts';
export type { ToolCallEvent, ToolCallReporter, ToolCallReporterOptions } from './tool-call-reporter.ts';

/** Options of {@link createMcpAuth}: the verifier, scopes every request needs, and challenge parameters. */
export interface McpAuthOptions extends AuthenticateOptions {
  /** Largest JSON-RPC body read by the node guard, in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * Scopes per tool name, known before any tool is registered. Useful for stateless servers that build their
   * `McpServer` per request, where `registerTool` runs only after the guard has seen the request.
   */
  toolScopes?: Readonly<Record<string, readonly string[]>>;
  /**
   * Per-action approvals (RFC 9396 `mcp_tool`, issue 12 item 4): a token carrying an `mcp_tool` detail is good for
   * the one call it names, once (its use is recorded at the authorization server by `recorder` before the tool
   * runs); the tools in `tools` run only with such a token. Without this option a token carrying a detail is refused
   * for any tool call, since its single use could not be recorded.
   */
  actionApproval?: { recorder: ActionUseRecorder; tools?: readonly string[] };
  /** Tool-call audit (issue 12 item 7): each call served or refused is reported here, never blocking it. */
  toolCalls?: Pick<ToolCallReporter, 'report'>;
}

/** The config of `McpServer.registerTool`, plus the scopes a call of the tool needs. */
export type ScopedToolConfig<InputArgs, OutputArgs> = {
  title?: string;
  description?: string;
  inputSchema?: InputArgs;
  outputSchema?: OutputArgs;
  // Not Parameters<McpServer['registerTool']>[1]['annotations']: Parameters of that generic method is `never`.
  annotations?: ToolAnnotations;
  _meta?: Record<string, unknown>;
  /** Scopes a `tools/call` of this tool needs; a token without them gets HTTP 403 `insufficient_scope`. */
  scopes?: readonly string[];
  /** Each call needs its own approval (a single-use token for exactly it): see `McpAuthOptions.actionApproval`. */
  perActionApproval?: boolean;
};

/** Authorization of one MCP endpoint. */
export interface McpAuth {
  /**
   * Registers a tool on `server` (as `server.registerTool`) together with the scopes its calls need. The handler
   * also refuses to run without those scopes, for transports that bypass the HTTP guard.
   */
  registerTool<OutputArgs extends ZodRawShapeCompat | AnySchema, InputArgs extends undefined | ZodRawShapeCompat | AnySchema = undefined>(
    server: McpServer,
    name: string,
    config: ScopedToolConfig<InputArgs, OutputArgs>,
    handler: ToolCallback<InputArgs>,
  ): RegisteredTool;
  /** The scopes declared for a tool (empty when none or unknown). */
  toolScopes(name: string): readonly string[];
  /**
   * Web-standard core: authenticates the request and checks the scopes of the `tools/call` requests in its parsed
   * JSON-RPC body.
   */
  authorize(sources: CredentialSources, parsedBody: unknown): Promise<AuthOutcome>;
  /**
   * node:http / Express guard in front of the transport: authenticates, reads the JSON-RPC body (unless a body
   * parser already did), checks tool scopes, sets `req.auth`, then calls `handle(req, res, parsedBody)`.
   *
   * @example
   * app.all('/mcp', mcpAuth.nodeHandler((req, res, body) => transport.handleRequest(req, res, body)));
   */
  nodeHandler(
    handle: (req: IncomingMessage & { auth: AuthInfo }, res: ServerResponse, parsedBody: unknown) => Promise<void> | void,
  ): (req: IncomingMessage, res: ServerResponse, next?: Next) => Promise<void>;
  /**
   * Fetch-style guard for `WebStandardStreamableHTTPServerTransport` (Hono, Workers, Deno, Bun).
   *
   * @example
   * const handler = mcpAuth.fetchHandler((request, init) => transport.handleRequest(request, init));
   */
  fetchHandler(
    handle: (request: Request, init: { authInfo: AuthInfo; parsedBody: unknown }) => Promise<Response>,
  ): (request: Request) => Promise<Response>;
}

/**
 * Creates the authorization of an MCP server's Streamable HTTP endpoint (MCP authorization, MCP-RS-02/03): 401 with
 * `resource_metadata` without a valid token, 403 `insufficient_scope` naming a tool's scopes when the token lacks
 * them, and the verified `AuthInfo` for tool handlers (`extra.authInfo`, typed by {@link getAuthInfo}).
 *
 * @example
 * const mcpAuth = createMcpAuth({ verifier });
 * mcpAuth.registerTool(server, 'write_file', { scopes: ['files:write'], inputSchema: { path: z.string() } }, async ({ path }, extra) => {
 *   const auth = getAuthInfo(extra);
 *   return { content: [{ type: 'text', text: `${auth.agentId} writes ${path} for ${auth.subject}` }] };
 * });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function createMcpAuth(options: McpAuthOptions): McpAuth {
  checkAuthenticateOptions(options);
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const scopesByTool = new Map<string, readonly string[]>();
  for (const [name, scopes] of Object.entries(options.toolScopes ?? {})) scopesByTool.set(name, checkScopes(name, scopes));
  const baseScopes = options.requiredScopes ?? [];

  function scopesForBody(body: unknown): string[] {
    const needed = new Set(baseScopes);
    for (const message of Array.isArray(body) ? body : [body]) {
      const name = toolCallName(message);
      if (name !== undefined) for (const scope of scopesByTool.get(name) ?? []) needed.add(scope);
    }
    return [...needed];
  }

  const approvalTools = new Set(options.actionApproval?.tools ?? []);
  const audiences = options.verifier.audience;

  function reportCall(auth: AuthInfo, call: ToolCallFacts, decision: ToolCallEvent['decision'], durationMs: number, reason?: string): void {
    if (!options.toolCalls) return;
    try {
      options.toolCalls.report({
        subject: auth.subject,
        clientId: auth.clientId,
        chain: auth.actors.map((a) => a.subject),
        tool: call.tool,
        argumentsSha256: call.argumentsSha256,
        decision,
        durationMs,
        at: Date.now(),
        tokenId: auth.tokenId,
        ...(reason !== undefined ? { reason } : {}),
      });
    } catch {
      // Reporting never fails a call.
    }
  }

  /**
   * The HTTP-layer checks of the body's `tools/call` requests: 403 `insufficient_scope` when the token lacks a scope
   * they need; then per-action approvals: 403 `action_approval_required` for a call its token does not approve, and
   * the single use recorded at the authorization server (401 `invalid_token` once it was used). Every refusal is
   * reported to the tool-call audit.
   */
  async function checkToolCalls(auth: AuthInfo, parsedBody: unknown): Promise<AuthOutcome> {
    const calls = toolCallsOf(parsedBody);
    const refuse = (err: AnyMandateError): AuthOutcome => {
      for (const call of calls) reportCall(auth, call, 'refused', 0, `${err.code}: ${err.message}`);
      return { ok: false, rejection: rejectionFor(err, options) };
    };
    const required = scopesForBody(parsedBody);
    const missing = required.filter((s) => !auth.scopes.includes(s));
    if (missing.length > 0) return refuse(new InsufficientScope(required, missing, auth.scopes));
    const checked: CheckedToolCall[] = [];
    try {
      for (const call of calls) {
        const action = actionFor(auth, call, approvalTools, audiences);
        if (action !== null) {
          if (!options.actionApproval) throw new ActionUseFailed('this server records no action uses (createMcpAuth has no actionApproval option)');
          await options.actionApproval.recorder.record(auth.token, action.tool, action.argumentsSha256);
        }
        checked.push({ ...call, actionApproved: action !== null });
      }
    } catch (err) {
      if (isMandateError(err)) return refuse(err);
      throw err;
    }
    return { ok: true, auth: checked.length > 0 ? withToolCalls(auth, checked) : auth };
  }

  async function authorize(sources: CredentialSources, parsedBody: unknown): Promise<AuthOutcome> {
    const outcome = await authenticateCredentials(sources, options);
    return outcome.ok ? checkToolCalls(outcome.auth, parsedBody) : outcome;
  }

  function registerTool<OutputArgs extends ZodRawShapeCompat | AnySchema, InputArgs extends undefined | ZodRawShapeCompat | AnySchema = undefined>(
    server: McpServer,
    name: string,
    config: ScopedToolConfig<InputArgs, OutputArgs>,
    handler: ToolCallback<InputArgs>,
  ): RegisteredTool {
    const { scopes: declared = [], perActionApproval = false, ...toolConfig } = config;
    const scopes = checkScopes(name, declared);
    if (perActionApproval) approvalTools.add(name);
    const known = scopesByTool.get(name);
    if (known !== undefined && (known.length !== scopes.length || known.some((s) => !scopes.includes(s)))) {
      throw new TypeError(`tool ${name} is registered with scopes that differ from those declared before`);
    }
    scopesByTool.set(name, scopes);
    // The handler takes (extra) or (args, extra) depending on inputSchema; extra is always last.
    const guarded = async (...params: unknown[]) => {
      const extra = params[params.length - 1] as { authInfo?: McpAuthInfo; requestId?: unknown } | undefined;
      const granted = extra?.authInfo?.scopes ?? [];
      const missing = scopes.filter((s) => !granted.includes(s));
      if (missing.length > 0) throw new InsufficientScope(scopes, missing, granted);
      // A transport that bypasses the HTTP guard must not bypass the per-action approval either.
      const auth = extra?.authInfo as AuthInfo | undefined;
      const checked = auth?.extra?.[TOOL_CALLS_CHECKED] as CheckedToolCall[] | undefined;
      // (A tool registered after the guard saw the request, as stateless servers do, is caught here: declare such
      // tools in `actionApproval.tools` so that the guard refuses them at the HTTP layer instead.)
      if (approvalTools.has(name) && !checked?.some((c) => c.tool === name && c.actionApproved)) {
        throw new ActionUseFailed(`tool ${name} needs a per-action approval, checked by the HTTP guard (nodeHandler or fetchHandler)`);
      }
      const started = performance.now();
      const call = checked?.find((c) => c.tool === name) ?? { tool: name, argumentsSha256: toolCallsOf({ method: 'tools/call', params: { name, arguments: params.length > 1 ? params[0] : undefined } })[0]!.argumentsSha256 };
      try {
        const result = await (handler as (...p: unknown[]) => unknown)(...params);
        const failed = typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true;
        if (auth?.subject !== undefined) reportCall(auth, call, 'allowed', performance.now() - started, failed ? 'the tool answered with an error' : undefined);
        return result;
      } catch (err) {
        if (auth?.subject !== undefined) reportCall(auth, call, 'allowed', performance.now() - started, 'the tool failed');
        throw err;
      }
    };
    return server.registerTool<OutputArgs, InputArgs>(name, toolConfig, guarded as unknown as ToolCallback<InputArgs>);
  }

  return {
    registerTool,
    toolScopes: (name) => scopesByTool.get(name) ?? [],
    authorize,
    nodeHandler(handle) {
      return async (req, res, next) => {
        try {
          // Authenticate before reading the body: a request without a valid token costs no body read.
          const authenticated = await authenticateCredentials(credentialSources(req), options);
          if (!authenticated.ok) {
            writeRejection(res, authenticated.rejection);
            return;
          }
          const body = await readJsonBody(req, maxBodyBytes);
          if (body === parseError) {
            writeJsonRpcParseError(res);
            return;
          }
          const outcome = await checkToolCalls(authenticated.auth, body);
          if (!outcome.ok) {
            writeRejection(res, outcome.rejection);
            return;
          }
          const authed = req as IncomingMessage & { auth: AuthInfo };
          authed.auth = outcome.auth;
          await handle(authed, res, body);
        } catch (err) {
          if (next === undefined) throw err;
          next(err);
        }
      };
    },
    fetchHandler(handle) {
      return async (request) => {
        const authenticated = await authenticateCredentials({ headers: request.headers, url: request.url, method: request.method }, options);
        if (!authenticated.ok) return rejectionResponse(authenticated.rejection);
        let body: unknown;
        if (request.method === 'POST') {
          try {
            body = await request.clone().json();
          } catch {
            return Response.json(jsonRpcParseError, { status: 400 });
          }
        }
        const outcome = await checkToolCalls(authenticated.auth, body);
        if (!outcome.ok) return rejectionResponse(outcome.rejection);
        return handle(request, { authInfo: outcome.auth, parsedBody: body });
      };
    },
  };
}

/**
 * The Mandate `AuthInfo` of a tool call (`extra.authInfo`, set from `req.auth` by the MCP transport), typed.
 * Throws TypeError when the request did not pass through {@link createMcpAuth}'s guard.
 */
export function getAuthInfo(extra: { authInfo?: McpAuthInfo }): AuthInfo {
  const info = extra.authInfo as AuthInfo | undefined;
  if (info === undefined || typeof info.subject !== 'string') {
    throw new TypeError('extra.authInfo is not a Mandate AuthInfo: is the endpoint behind createMcpAuth()?');
  }
  return info;
}

/** Where the guard leaves the tool calls it checked (with their arguments' hashes) for the tool handlers. */
const TOOL_CALLS_CHECKED = 'mandateToolCalls';

/** A tool call the guard let through; `actionApproved`: its per-action approval was checked and its use recorded. */
type CheckedToolCall = ToolCallFacts & { actionApproved: boolean };

function withToolCalls(auth: AuthInfo, calls: CheckedToolCall[]): AuthInfo {
  return { ...auth, extra: { ...auth.extra, [TOOL_CALLS_CHECKED]: calls } };
}

function checkScopes(name: string, scopes: unknown): readonly string[] {
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && s !== '')) {
    throw new TypeError(`scopes of tool ${name} must be an array of scope strings`);
  }
  return [...scopes];
}

function toolCallName(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
  return method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
}

const parseError = Symbol('parse error');
const jsonRpcParseError = { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null };

/** The parsed body: what a body parser left on `req.body`, else the stream read here (POST only). */
async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined) return parsed;
  if (req.method !== 'POST') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return parseError;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return parseError;
  }
}

function writeJsonRpcParseError(res: ServerResponse): void {
  const body = JSON.stringify(jsonRpcParseError);
  res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
