import type { McpToolAuthorizationDetail } from '@mandate/protocol';
import { parseAuthorizationDetails, type RequestedMcpToolDetail } from '../oauth/authorization-details.ts';
import { actionResource, decideActionApproval } from '../policy/action-approval.ts';
import { FormParams } from '../oauth/form-params.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import { matchRedirectUri } from '../policy/redirect-uri.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { decideTargets, type Party, TARGET_POLICIES, type TargetDecision } from '../policy/token-targets.ts';
import type { ClientRecord, ClientRecords, ResourceRecord, ResourceRecords, ToolPolicyRecords } from '../store/store.ts';

/**
 * Parses and validates an authorization request (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 7636, RFC 8707,
 * OIDC Core §3.1.2.1, draft-oauth-ai-agents-on-behalf-of-user-02 §4.1), as a list of named checks. Until the
 * client and its redirect URI are verified, an error is only shown (RFC 6749 §4.1.2.1: never redirect to an
 * unverified URI); after that, errors go back to the client with `state` and `iss`.
 */

export interface AuthorizationRequest {
  client: ClientRecord;
  /** The redirect URI as presented (a loopback one may carry its own port). */
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  nonce: string | undefined;
  /** RFC 9449 §10 `dpop_jkt`: the code is redeemed only with a DPoP proof of this key. */
  dpopJkt: string | undefined;
  prompt: ReadonlySet<string>;
  /** OIDC Core §3.1.2.1 `max_age`: the longest time in seconds since the user last authenticated; absent when not sent. */
  maxAge: number | undefined;
  /** The agent named by `requested_actor`, when there is one. */
  actor: ClientRecord | null;
  /** The request's `scope` as sent (undefined when absent): the decision is made again with what was granted before. */
  requestedScopes: string[] | undefined;
  scopes: string[];
  resources: string[];
  /** Registered resources by URI (for the consent page's scope descriptions). */
  registered: ReadonlyMap<string, ResourceRecord>;
  /** RFC 9396: the one `mcp_tool` call asked for, its location filled in (pushed requests only). */
  authorizationDetails: McpToolAuthorizationDetail[] | undefined;
}

export type ParsedAuthorizationRequest =
  | { ok: true; request: AuthorizationRequest }
  | { ok: false; redirect: false; clientId: string | undefined; description: string }
  | { ok: false; redirect: true; clientId: string; redirectUri: string; state: string | undefined; error: string; description: string };

export interface AuthorizationRequestDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  resources: Pick<ResourceRecords, 'listResources'> & Pick<ToolPolicyRecords, 'getToolPolicy'>;
  /** Every request must come through the pushed authorization request endpoint (RFC 9126 §5; the FAPI 2.0 mode). */
  parRequired?: boolean;
}

/** Whether the request's parameters came from a pushed authorization request (RFC 9126), which the client authenticated. */
export interface AuthorizationRequestOrigin {
  pushed: boolean;
}

/** Why a plain authorization request is refused when PAR is required (for the client or for every client). */
export const PAR_REQUIRED = 'authorization requests must be pushed first: POST them to the pushed_authorization_request_endpoint, then send client_id and request_uri (RFC 9126)';

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** An RFC 7638 SHA-256 thumbprint, base64url: 43 characters. */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
const PROMPTS = new Set(['none', 'login', 'consent']);
/** Up to ~31 years: longer is indistinguishable from no limit, and stays a safe integer. */
const MAX_AGE = /^\d{1,9}$/;

export const AUTHORIZATION_CODE = 'authorization_code';

export const CLIENT_REFUSED = 'unknown or disabled client';

/** Why a client cannot use the authorization endpoint (unknown, disabled, an agent, or not allowed the code flow), or null. */
export function clientRefusal(client: ClientRecord | null): string | null {
  if (!client || client.kind !== 'app' || client.status !== 'active') return CLIENT_REFUSED;
  if (!client.grantTypes.includes(AUTHORIZATION_CODE)) return 'this client may not use the authorization code flow';
  return null;
}

/** draft-oauth-ai-agents-on-behalf-of-user-02 §4.1: the AS must recognise the actor (an active agent). */
export const isActiveAgent = (actor: ClientRecord | null): actor is ClientRecord => actor !== null && actor.kind === 'agent' && actor.status === 'active';
export const ACTOR_REFUSED = 'requested_actor is not an active agent';

/**
 * What the user may be asked to grant the client and the agent it names (`TARGET_POLICIES.authorization_request`),
 * keeping `alreadyGranted` (what the user granted the same client and agent for these resources before).
 */
export function decideAuthorizationTargets(
  client: ClientRecord,
  actor: ClientRecord | null,
  requested: { resources: readonly string[]; scopes: readonly string[] | undefined },
  registered: ReadonlyMap<string, ResourceRecord>,
  alreadyGranted: readonly string[] = [],
): TargetDecision {
  const parties: Party[] = [
    { label: 'this client', kind: client.kind, allowedScopes: client.allowedScopes, allowedAudiences: client.allowedAudiences, defaultScopes: client.defaultScopes },
  ];
  if (actor) parties.push({ label: 'the requested agent', kind: actor.kind, allowedScopes: actor.allowedScopes, allowedAudiences: actor.allowedAudiences });
  return decideTargets(TARGET_POLICIES.authorization_request, {
    requestedResources: requested.resources,
    requestedScopes: requested.scopes,
    parties,
    mayRefresh: client.grantTypes.includes('refresh_token'),
    registered,
    alreadyGranted,
  });
}

export async function parseAuthorizationRequest(query: string, deps: AuthorizationRequestDeps, origin: AuthorizationRequestOrigin = { pushed: false }): Promise<ParsedAuthorizationRequest> {
  const params = new FormParams(query);
  const shown = (description: string, clientId?: string): ParsedAuthorizationRequest => ({ ok: false, redirect: false, clientId, description });

  // Step 1: the client, then its redirect URI. Nothing is redirected before both are verified.
  let clientId: string | undefined;
  let presentedRedirect: string | undefined;
  try {
    params.rejectRepeated(new Set(['resource']));
    clientId = params.get('client_id');
    presentedRedirect = params.get('redirect_uri');
  } catch (err) {
    return shown((err as Error).message);
  }
  if (!clientId) return shown('client_id is required');
  let client: ClientRecord | null;
  try {
    client = await deps.clients.getClient(clientId);
  } catch (err) {
    // A client metadata document that cannot be used says why (issue 9); still never a redirect.
    if (err instanceof OAuthError) return shown(`${err.error}: ${err.message}`, clientId);
    throw err;
  }
  const unusable = clientRefusal(client);
  if (unusable !== null || !client) return shown(unusable ?? CLIENT_REFUSED, clientId);
  // OAuth 2.1 §4.1.1: redirect_uri may be omitted only when exactly one is registered.
  const redirectUri = presentedRedirect ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (!redirectUri) return shown('redirect_uri is required', clientId);
  if (!matchRedirectUri(client.redirectUris, redirectUri)) return shown('redirect_uri does not match a registered redirect URI', clientId);

  // Step 2: everything else; errors now go back to the client.
  const state = params.get('state');
  const back = (error: string, description: string): ParsedAuthorizationRequest => ({ ok: false, redirect: true, clientId, redirectUri, state, error, description });
  try {
    if (!origin.pushed && (deps.parRequired || client.requirePushedAuthorizationRequests)) return back('invalid_request', PAR_REQUIRED);
    if (params.has('request')) return back('request_not_supported', 'request objects are not supported');
    // A request_uri reaches here only inside pushed parameters, which the PAR endpoint refuses (RFC 9126 §2.1).
    if (params.has('request_uri')) return back('invalid_request', 'request_uri must not be nested in a pushed authorization request');
    // RFC 9396: details only in a pushed request, whose parameters the client authenticated and no browser saw or
    // changed. In a plain one they are refused rather than ignored, so that no client takes a plain token for an
    // approval of its details; a malformed value gets its precise error first (RAR-01..05).
    const details = parseAuthorizationDetails(params.get('authorization_details'));
    if (details && !origin.pushed) {
      return back('invalid_authorization_details', 'authorization_details are accepted only in a pushed authorization request (RFC 9126), or asked for over CIBA (docs/actions.md)');
    }
    const responseType = params.get('response_type');
    if (responseType !== 'code') return back(responseType ? 'unsupported_response_type' : 'invalid_request', 'response_type must be code');
    const responseMode = params.get('response_mode');
    if (responseMode !== undefined && responseMode !== 'query') return back('invalid_request', 'response_mode must be query');

    // RFC 7636 + OAuth 2.1 §4.1.1: PKCE is required, and only S256 (plain would expose the verifier; RFC 9700 §2.1.1).
    const codeChallenge = params.get('code_challenge');
    const method = params.get('code_challenge_method');
    if (!codeChallenge) return back('invalid_request', 'code_challenge is required (PKCE)');
    if (method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256');
    if (!PKCE_CHALLENGE.test(codeChallenge)) return back('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters)');

    const prompt = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
    if ([...prompt].some((p) => !PROMPTS.has(p)) || (prompt.has('none') && prompt.size > 1)) return back('invalid_request', 'unsupported prompt value');
    const maxAgeText = params.get('max_age');
    // OIDC Core §3.1.2.1: a whole number of seconds (0 forces a fresh login, as prompt=login does).
    if (maxAgeText !== undefined && !MAX_AGE.test(maxAgeText)) return back('invalid_request', 'max_age must be a whole number of seconds');
    const maxAge = maxAgeText === undefined ? undefined : Number(maxAgeText);

    const requestedActor = params.get('requested_actor');
    let actor: ClientRecord | null = null;
    if (requestedActor !== undefined) {
      actor = await deps.clients.getClient(requestedActor);
      if (!isActiveAgent(actor)) return back('invalid_request', ACTOR_REFUSED);
    }

    let requestedResources = parseResourceParameters(params);
    if (details) {
      // The call's location is the request's one resource (RFC 9396 §2.2).
      const located = actionResource(details[0]!, requestedResources);
      if (!located.ok) return back('invalid_authorization_details', located.description);
      requestedResources = [located.resource];
    }
    const registered = new Map((await deps.resources.listResources()).map((r) => [r.uri, r]));
    const requestedScopes = parseScope(params.get('scope'));
    const decision = decideAuthorizationTargets(client, actor, { resources: requestedResources, scopes: requestedScopes }, registered);
    if (!decision.ok) return back(decision.error, decision.description);
    const action = details && (await approvableAction(details[0]!, decision.resources, registered, deps));
    if (action && !action.ok) return back('invalid_authorization_details', action.description);

    const dpopJkt = params.get('dpop_jkt');
    if (dpopJkt !== undefined && !JWK_THUMBPRINT.test(dpopJkt)) return back('invalid_request', 'dpop_jkt must be a base64url SHA-256 JWK thumbprint');
    const nonce = params.get('nonce');
    if (nonce !== undefined && nonce.length > 512) return back('invalid_request', 'nonce is too long');
    return {
      ok: true,
      request: {
        client, redirectUri, state, codeChallenge, nonce, dpopJkt, prompt, maxAge, actor, requestedScopes, scopes: decision.scopes, resources: decision.resources, registered,
        authorizationDetails: action ? [action.detail] : undefined,
      },
    };
  } catch (err) {
    if (err instanceof OAuthError) return back(err.error, err.message);
    throw err;
  }
}

/**
 * An `mcp_tool` detail as the user may approve it: at the request's one resource, a registered resource server
 * whose tool an operator marked for per-action approvals (policy/action-approval.ts), as CIBA requires.
 */
export async function approvableAction(
  /** As requested, or as kept with a pending request (which the same schema checked when it arrived). */
  detail: RequestedMcpToolDetail | McpToolAuthorizationDetail,
  resources: readonly string[],
  registered: ReadonlyMap<string, ResourceRecord>,
  deps: Pick<AuthorizationRequestDeps, 'resources'>,
): Promise<{ ok: true; detail: McpToolAuthorizationDetail } | { ok: false; description: string }> {
  const resource = resources.length === 1 ? registered.get(resources[0]!) : undefined;
  if (!resource) return { ok: false, description: 'an mcp_tool detail needs its one resource to be a registered resource server' };
  const decided = decideActionApproval(detail as RequestedMcpToolDetail, resource.uri, await deps.resources.getToolPolicy(resource.id, detail.tool));
  return decided.ok ? { ok: true, detail: decided.detail } : decided;
}

/** The client's redirect URI with response parameters added (RFC 6749 §4.1.2: its own query is kept). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

/**
 * The authorization request to come back to after the login page: without `prompt=login` and `max_age`, which the
 * login just satisfied (kept, they would ask again forever, or whenever a second passed with `max_age=0`). The
 * ID token's `auth_time` says when it happened, for the client to check (OIDC Core §3.1.3.7).
 */
export function queryAfterLogin(query: string, prompt: ReadonlySet<string>): string {
  const params = new URLSearchParams(query);
  const remaining = [...prompt].filter((p) => p !== 'login');
  if (remaining.length) params.set('prompt', remaining.join(' '));
  else params.delete('prompt');
  params.delete('max_age');
  return params.toString();
}
