import { argumentsSha256, type AuthorizationDetail, GRANT_TYPE_CIBA, MCP_TOOL_DETAIL_TYPE, type McpToolAuthorizationDetail } from '@mandate/protocol';
import { MetadataInvalid, TokenRequestFailed } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { AuthenticationTarget, ClientAuthentication } from './client-authentication.ts';
import { awaitApprovalDecision } from './approval-events.ts';
import { requestToken } from './token-request.ts';
import type { TokenRequestOptions, TokenResponse } from './token-request.ts';

/** What to ask a person to approve (OpenID CIBA Core 1.0 §7.1). */
export interface ApprovalRequest {
  /** Who is asked: `login_hint` (an e-mail address or user id at the authorization server). */
  loginHint: string;
  /** Scopes; `openid` is added when missing (§7.1: a CIBA request is an OpenID request). */
  scope: string | string[];
  /** RFC 8707 resources the token is for. */
  resource?: string | string[];
  /** §7.1 `binding_message`: shown to whoever approves; show it to your user too. */
  bindingMessage?: string;
  /** §7.1 `requested_expiry` in seconds. */
  requestedExpirySeconds?: number;
  /**
   * RFC 9396 `authorization_details`: what exactly to approve, e.g. one MCP tool call (`mcp_tool`, issue 12 item 4;
   * see `AgentAuthClient.requestToolCallApproval`). The tokens then carry them and the response echoes them.
   */
  authorizationDetails?: AuthorizationDetail[];
}

/** One MCP tool call to ask approval for (`AgentAuthClient.requestToolCallApproval`). */
export interface ToolCallApprovalRequest extends Omit<ApprovalRequest, 'authorizationDetails' | 'resource'> {
  /** The MCP server's resource URI: the token will be for it alone. */
  resource: string;
  tool: string;
  /** The call's arguments, exactly as they will be sent (hashed here; never sent to the authorization server). */
  arguments?: Record<string, unknown>;
}

/**
 * The CIBA request of one tool call's approval: the RFC 9396 `mcp_tool` detail of `tool` with exactly these
 * `arguments` (their SHA-256 over canonical JSON) at `resource`, and a binding message naming the tool.
 */
export function toolCallApproval(request: ToolCallApprovalRequest): ApprovalRequest {
  if (typeof request?.tool !== 'string' || request.tool === '') throw new TypeError('tool must be a non-empty string');
  if (typeof request.resource !== 'string' || !URL.canParse(request.resource)) throw new TypeError('resource must be the MCP server’s resource URI');
  const detail: McpToolAuthorizationDetail = { type: MCP_TOOL_DETAIL_TYPE, tool: request.tool, arguments_sha256: argumentsSha256(request.arguments ?? {}), locations: [request.resource] };
  const { tool: _tool, arguments: _arguments, ...approval } = request;
  return { ...approval, bindingMessage: request.bindingMessage ?? `Run ${request.tool}`.slice(0, 100), authorizationDetails: [detail] };
}

/** A request waiting for a person: `await pending.tokens` until it is approved (tokens) or not (a thrown error). */
export interface PendingApproval {
  authReqId: string;
  /** Seconds since the epoch after which polling ends with `expired_token`. */
  expiresAt: number;
  /** Seconds between polls, as the server asked (it grows by 5 after a `slow_down`). */
  interval: number;
  /**
   * Waits on the server's approval events stream when it offers one (`approval_events_endpoint`) and then asks the
   * token endpoint once; otherwise, or when the stream fails, polls it (poll mode, §10.1) at the server's interval
   * through the client's `sleep`, until the request is approved. Rejects with {@link TokenRequestFailed}: `error` `access_denied` (denied), `expired_token`
   * (nobody decided in time) or another §11 error.
   */
  tokens: Promise<TokenResponse>;
}

export interface BackchannelDeps {
  issuer: string;
  backchannelEndpoint: string | undefined;
  tokenEndpoint: string | undefined;
  /** The server's approval events stream (a Mandate extension), or undefined to poll only. */
  eventsEndpoint: string | undefined;
  authenticate: ClientAuthentication;
  http: TokenRequestOptions;
  /** Waits `ms` milliseconds (the client's scheduler; tests inject one so no real time passes). */
  sleep: (ms: number) => Promise<void>;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : typeof value === 'string' ? value.split(' ') : value).filter((v) => v !== '');

/** §7: starts the request; §10.1: polls for its tokens. */
export async function requestBackchannelApproval(request: ApprovalRequest, deps: BackchannelDeps): Promise<PendingApproval> {
  if (typeof request?.loginHint !== 'string' || request.loginHint === '') throw new TypeError('loginHint must be a non-empty string');
  if (deps.backchannelEndpoint === undefined || deps.tokenEndpoint === undefined) throw new MetadataInvalid('backchannel_authentication_endpoint');
  const scopes = list(request.scope);
  const form = new URLSearchParams({ scope: [...new Set(['openid', ...scopes])].join(' '), login_hint: request.loginHint });
  for (const resource of list(request.resource)) form.append('resource', resource);
  if (request.bindingMessage !== undefined) form.set('binding_message', request.bindingMessage);
  if (request.requestedExpirySeconds !== undefined) form.set('requested_expiry', String(request.requestedExpirySeconds));
  if (request.authorizationDetails !== undefined) form.set('authorization_details', JSON.stringify(request.authorizationDetails));

  const target: AuthenticationTarget = { issuer: deps.issuer, endpoint: deps.backchannelEndpoint, tokenEndpoint: deps.tokenEndpoint };
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  await deps.authenticate(form, headers, target);
  const answer = await fetchJson(deps.backchannelEndpoint, { method: 'POST', headers, body: form.toString() }, deps.http);
  const body = answer.json;
  if (answer.status !== 200 || !isJsonObject(body) || typeof body['auth_req_id'] !== 'string' || typeof body['expires_in'] !== 'number') {
    const error = isJsonObject(body) && typeof body['error'] === 'string' ? body['error'] : undefined;
    const errorDescription = isJsonObject(body) && typeof body['error_description'] === 'string' ? body['error_description'] : undefined;
    throw new TokenRequestFailed(`the backchannel authentication request was refused${error ? `: ${error}` : ''}`, {
      status: answer.status,
      ...(error ? { error } : {}),
      ...(errorDescription ? { errorDescription } : {}),
    });
  }
  const authReqId = body['auth_req_id'];
  const pending: Omit<PendingApproval, 'tokens'> = {
    authReqId,
    expiresAt: Math.floor(deps.http.clock() / 1000) + body['expires_in'],
    // §7.3: 5 seconds when the server does not say.
    interval: typeof body['interval'] === 'number' && body['interval'] > 0 ? body['interval'] : 5,
  };
  const state = { ...pending };
  const tokenTarget = { issuer: deps.issuer, endpoint: deps.tokenEndpoint, tokenEndpoint: deps.tokenEndpoint };
  const ask = () => requestToken(tokenTarget, new URLSearchParams({ grant_type: GRANT_TYPE_CIBA, auth_req_id: authReqId }), deps.authenticate, deps.http);
  const poll = async (): Promise<TokenResponse> => {
    // Told of the decision: one token request, no wait. A pending answer (the stream ran ahead) falls back to polling.
    const events = deps.eventsEndpoint;
    const eventsTarget = { issuer: deps.issuer, endpoint: events!, tokenEndpoint: deps.tokenEndpoint! };
    if (events !== undefined && (await awaitApprovalDecision(events, new URLSearchParams({ auth_req_id: authReqId }), deps.authenticate, eventsTarget, deps.http, (body['expires_in'] as number) * 1000 + 5000))) {
      try {
        return await ask();
      } catch (err) {
        if (!(err instanceof TokenRequestFailed) || (err.error !== 'authorization_pending' && err.error !== 'slow_down')) throw err;
      }
    }
    for (;;) {
      await deps.sleep(state.interval * 1000);
      try {
        return await ask();
      } catch (err) {
        if (!(err instanceof TokenRequestFailed)) throw err;
        if (err.error === 'authorization_pending') continue;
        // §11: the client MUST increase its interval by at least 5 seconds for this and every later request.
        if (err.error === 'slow_down') {
          state.interval += 5;
          continue;
        }
        throw err;
      }
    }
  };
  const tokens = poll();
  return Object.defineProperties({ ...pending, tokens }, { interval: { get: () => state.interval, enumerable: true } }) as PendingApproval;
}
