import type { McpToolAuthorizationDetail } from '@mandate/protocol';
import { invalidAuthorizationDetails, parseAuthorizationDetails, type RequestedMcpToolDetail } from '../oauth/authorization-details.ts';
import { ACTION_TOKEN_MAX_TTL_SECONDS, actionResource, decideActionApproval, higherRisk } from '../policy/action-approval.ts';
import type { ToolPolicyRecords } from '../store/store.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { invalidRequest, invalidScope, invalidTarget, OAuthError } from '../oauth/oauth-error.ts';
import { canonicalResourceUri } from '../oauth/resource-uri.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { decideClientScopes, highestRisk, scopesNeedingApproval } from '../policy/scope-policy.ts';
import { decideTargets, NO_RESOURCES, TARGET_POLICIES, type TargetDecision, type TargetFacts } from '../policy/token-targets.ts';
import type { ClientRecord, ResourceRecords } from '../store/store.ts';
import { type ApprovalGateDeps, passApprovalGate } from '../policy/approval-gate.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import { type Grant, type GrantInput, type GrantResult, tokenTypeFor } from './grant.ts';
import { lookUpResources } from './registered-resources.ts';

export interface ClientCredentialsDeps {
  /** The resources, and which of their tools take per-action approvals (RFC 9396 `mcp_tool`, issue 12 item 4). */
  resources: Pick<ResourceRecords, 'getResourceByUri'> & Pick<ToolPolicyRecords, 'getToolPolicy'>;
  /** The approval queue, for scopes whose policy asks an approver (issue 12 item 2). */
  approvals: ApprovalGateDeps['approvals'];
  keys: KeyRing;
  issuer: string;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
}

export interface ClientCredentialsRequest {
  /** Canonical `resource` URIs (RFC 8707 §2); empty when none were sent. */
  resources: string[];
  /** Undefined when the request has no `scope`. */
  scopes: string[] | undefined;
  /** Mandate extension: why the client asks, shown to approvers when a scope needs approval. */
  justification: string | null;
  /** RFC 9396: one tool call to approve (issue 12 item 4); the token then carries it and is good for it once. */
  authorizationDetails: RequestedMcpToolDetail[] | undefined;
}

const policy = TARGET_POLICIES.client_credentials;

type Decision = TargetDecision & { maxLifetimeSeconds?: number; approvalId?: string; authorizationDetails?: McpToolAuthorizationDetail[] };
/** An actor token proves an agent for one exchange or code redemption: it need not live long. */
const ACTOR_TOKEN_MAX_TTL_SECONDS = 300;

/**
 * RFC 6749 §4.4: an agent (or other confidential client) gets a token for itself. `sub` = `client_id` = the
 * agent id; the audience and scopes are decided by `policy/token-targets.ts` (`client_credentials`).
 *
 * `resource` = this issuer asks for an actor token instead (SR-04): `aud` = the issuer, no scope, at most five
 * minutes. It opens no resource; it is what a token exchange or an on-behalf-of code redemption accepts as
 * `actor_token` (lifecycle/actor-token.ts), where a token meant for a resource is refused.
 */
export function clientCredentialsGrant(deps: ClientCredentialsDeps): Grant<ClientCredentialsRequest> {
  const ownResource = canonicalResourceUri(deps.issuer);

  /** Targets by `token-targets.ts`, then each scope by its policy (`scope-policy.ts`), over the same looked-up resources. */
  async function decide(client: ClientRecord, request: ClientCredentialsRequest, now: number): Promise<Decision> {
    let requestedResources = request.resources;
    const requestedAction = request.authorizationDetails?.[0];
    if (requestedAction) {
      const located = actionResource(requestedAction, requestedResources);
      if (!located.ok) throw invalidAuthorizationDetails(located.description);
      requestedResources = [located.resource];
    }
    const facts: TargetFacts = {
      requestedResources,
      requestedScopes: request.scopes,
      parties: [{ label: 'this client', kind: client.kind, allowedScopes: client.allowedScopes, allowedAudiences: client.allowedAudiences, defaultScopes: client.defaultScopes }],
      registered: NO_RESOURCES,
    };
    facts.registered = await lookUpResources(policy.lookUp(facts), deps.resources);
    const targets = decideTargets(policy, facts);
    if (!targets.ok) return targets;
    // A request without `scope` asked for nothing in particular: it gets the default scopes that need no approver
    // (the response's `scope` says which, RFC 6749 §3.3), and asks an approver only when every one of them needs one.
    if (request.scopes === undefined && !requestedAction) {
      const needing = scopesNeedingApproval(targets.scopes, targets.resources, facts.registered);
      const free = targets.scopes.filter((scope) => !needing.includes(scope));
      if (needing.length > 0 && free.length > 0) targets.scopes = free;
    }
    const scopes = await decideClientScopes(client.clientId, targets, facts.registered, now);
    if (!scopes.ok && scopes.reason === 'denied') return { ok: false, error: 'invalid_scope', description: scopes.description };
    let risk = highestRisk(targets.scopes, targets.resources, facts.registered);
    let authorizationDetails: McpToolAuthorizationDetail[] | undefined;
    let why = scopes.ok ? '' : scopes.description;
    if (requestedAction) {
      // A per-action approval always asks an approver, whatever the scopes' policies say: that is its point.
      const resource = facts.registered.get(requestedResources[0]!);
      if (!resource) throw invalidAuthorizationDetails(`no resource server ${requestedResources[0]} is registered`);
      const action = decideActionApproval(requestedAction, resource.uri, await deps.resources.getToolPolicy(resource.id, requestedAction.tool));
      if (!action.ok) throw invalidAuthorizationDetails(action.description);
      authorizationDetails = [action.detail];
      risk = higherRisk(risk, action.risk);
      why = `tool ${action.detail.tool} at ${resource.uri} is approved per action`;
    } else if (scopes.ok) return { ...targets, maxLifetimeSeconds: scopes.maxLifetimeSeconds };
    // Approved before for exactly this request (used up now), or refused with the pending request's id.
    const ask = { clientId: client.clientId, chain: [client.clientId], userId: null, scopes: targets.scopes, resources: targets.resources, justification: request.justification, risk, why };
    const { approvalId } = await passApprovalGate(authorizationDetails ? { ...ask, authorizationDetails } : ask, deps, now);
    return { ...targets, approvalId, maxLifetimeSeconds: scopes.maxLifetimeSeconds, ...(authorizationDetails ? { authorizationDetails } : {}) };
  }

  /** The issuer alone, no scope; anything else asked beside it is refused. */
  function actorTokenTargets(request: ClientCredentialsRequest): TargetDecision {
    if (request.resources.length > 1) throw invalidTarget('an actor token (resource = this issuer) names no other resource');
    if (request.scopes !== undefined && request.scopes.length > 0) throw invalidScope('an actor token (resource = this issuer) carries no scope');
    return { ok: true, resources: [deps.issuer], scopes: [] };
  }

  return {
    grantType: 'client_credentials',
    repeatable: new Set(['resource']),
    confidentialClientsOnly: true,
    parse: (params) => ({
      resources: parseResourceParameters(params),
      scopes: parseScope(params.get('scope')),
      justification: justification(params.get('justification')),
      authorizationDetails: parseAuthorizationDetails(params.get('authorization_details')),
    }),
    async handle({ client: { client }, request, now, dpopJkt }: GrantInput<ClientCredentialsRequest>): Promise<GrantResult> {
      const actorToken = ownResource !== null && request.resources.includes(ownResource);
      if (actorToken && request.authorizationDetails) throw invalidAuthorizationDetails('an actor token (resource = this issuer) carries no authorization_details');
      const decision: Decision = actorToken ? actorTokenTargets(request) : await decide(client, request, now);
      if (!decision.ok) throw new OAuthError(decision.error, decision.description);

      const ttlSeconds = Math.min(
        client.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds,
        deps.maxAccessTokenTtlSeconds,
        actorToken ? ACTOR_TOKEN_MAX_TTL_SECONDS : Infinity,
        decision.maxLifetimeSeconds ?? Infinity,
        decision.ok && decision.authorizationDetails ? ACTION_TOKEN_MAX_TTL_SECONDS : Infinity,
      );
      const action = decision.authorizationDetails;
      const minted = await mintAccessToken(
        {
          subject: client.clientId,
          subjectIsAgent: client.kind === 'agent',
          clientId: client.clientId,
          audience: decision.resources,
          scopes: decision.scopes,
          ttlSeconds,
          dpopJkt,
          ...(action ? { authorizationDetails: action } : {}),
        },
        { keys: deps.keys, issuer: deps.issuer, now },
      );
      const scope = minted.claims.scope;
      return {
        // RFC 9396 §7: the token response returns the granted details.
        response: { access_token: minted.token, token_type: tokenTypeFor(dpopJkt), expires_in: minted.expiresIn, ...(scope ? { scope } : {}), ...(action ? { authorization_details: action } : {}) },
        audit: {
          event: 'token.issued',
          actor: client.clientId,
          subject: client.clientId,
          clientId: client.clientId,
          detail: {
            grant_type: 'client_credentials',
            jti: minted.claims.jti,
            aud: minted.claims.aud,
            scope: scope ?? '',
            exp: minted.claims.exp,
            ...(decision.approvalId ? { approval_request: decision.approvalId } : {}),
            ...(action ? { authorization_details: action } : {}),
          },
        },
      };
    },
  };
}

/** `justification`: free text for approvers, at most 500 characters. */
function justification(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  if (value.length > 500) throw invalidRequest('justification is at most 500 characters');
  return value.trim();
}
