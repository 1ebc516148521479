import type { ActClaim, McpToolAuthorizationDetail } from '@mandate/protocol';
import { ACTION_TOKEN_MAX_TTL_SECONDS } from '../policy/action-approval.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import { decideChainPolicies } from '../policy/chain-policy.ts';
import { decideScopes } from '../policy/scope-policy.ts';
import { userTokenAudience } from '../policy/token-audiences.ts';
import { NO_RESOURCES, type TargetFacts } from '../policy/token-targets.ts';
import type { ClientRecord, DelegationPolicyRecords, IssuedTokenRecords, RefreshTokenRecord, ResourceRecords, UserGrantRecord, UserRecord } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import { mintIdToken } from '../tokens/id-token.ts';
import { mintRefreshToken } from '../tokens/refresh-token.ts';
import { type TokenResponse, tokenTypeFor } from './grant.ts';
import { lookUpResources } from './registered-resources.ts';

/**
 * Token issuance shared by the authorization-code and refresh-token grants: an RFC 9068 access token for the
 * user (with `act` naming the agent of an on-behalf-of grant), a rotated refresh token when `offline_access` was
 * granted, and an ID token when `openid` was.
 */

export interface UserTokenDeps {
  keys: KeyRing;
  issuer: string;
  /** The userinfo endpoint URL: the audience of tokens that target no resource. */
  userinfoUrl: string;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
  idTokenTtlSeconds: number;
  refreshTokenIdleTtlSeconds: number;
  /**
   * False in the FAPI 2.0 mode, which asks for no rotation (a lost response would strand the client): a refresh
   * token then lives as long as its grant and is used again and again. True (rotation) when absent.
   */
  rotateRefreshTokens?: boolean;
  /** The registered resources whose scope policies a token of the grant is checked against. */
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  /** The resources' delegation-chain policies (issue 11 item 4): an on-behalf-of token's chain is checked at mint and refresh. */
  policies: Pick<DelegationPolicyRecords, 'getDelegationPolicy'>;
}

export interface UserTokenRequest {
  grant: UserGrantRecord;
  user: UserRecord;
  client: ClientRecord;
  /** Scopes for this token (the grant's, or fewer). */
  scopes: string[];
  /** Resources for this token (the grant's, or fewer). */
  resources: string[];
  nonce: string | null;
  /** When set, the refresh token to answer instead of minting one (refresh rotation makes its record itself). */
  rotatedRefreshToken?: { token: string };
  /** A refresh without rotation: the client keeps its refresh token, and no new one is issued. */
  keepRefreshToken?: boolean;
  /** The thumbprint of the request's verified DPoP key: the access token is bound to it (RFC 9449 §5). */
  dpopJkt: string | undefined;
  /** The shortest lifetime the scopes' policies allow (`policyLimitedLifetime`). */
  maxLifetimeSeconds?: number | undefined;
  /**
   * A per-action approval (issue 12 item 4): the token carries this one approved call, lives at most
   * `ACTION_TOKEN_MAX_TTL_SECONDS`, targets only the call's resource, and comes with no refresh token.
   */
  authorizationDetails?: McpToolAuthorizationDetail[];
  now: number;
}

/** `act` of an on-behalf-of token: the agent, marked as one (draft-oauth-ai-agents-on-behalf-of-user-02 §5). */
export function agentActor(agentId: string): ActClaim {
  return { sub: agentId, client_id: agentId, sub_profile: 'ai_agent' };
}

export function wantsRefreshToken(grant: UserGrantRecord, client: ClientRecord): boolean {
  return grant.scopes.includes('offline_access') && client.grantTypes.includes('refresh_token');
}

/**
 * What `issueUserTokens` made: the response, the access token's `jti` and `exp`, and the record of a new refresh
 * token (not written yet: the token endpoint writes it with the audit row, `records`; `refresh_hash` in the row's
 * detail names it).
 */
export interface IssuedUserTokens {
  response: TokenResponse;
  jti: string;
  exp: number;
  records?: IssuedTokenRecords;
  refreshHash?: string;
}

/** The refresh token's record, to be written with the audit row; its hash goes in the row (never the token). */
export function issuedRefreshToken(record: RefreshTokenRecord): Pick<IssuedUserTokens, 'records' | 'refreshHash'> {
  return { records: { refreshTokens: [record] }, refreshHash: record.tokenHash };
}

export async function issueUserTokens(request: UserTokenRequest, deps: UserTokenDeps): Promise<IssuedUserTokens> {
  const { grant, user, client, now } = request;
  const action = request.authorizationDetails;
  const ttlSeconds = Math.max(
    1,
    Math.min(client.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds, deps.maxAccessTokenTtlSeconds, grant.expiresAt - now, request.maxLifetimeSeconds ?? Infinity, action ? ACTION_TOKEN_MAX_TTL_SECONDS : Infinity),
  );
  const minted = await mintAccessToken(
    {
      subject: user.id,
      subjectIsAgent: false,
      clientId: client.clientId,
      audience: action ? action[0]!.locations : userTokenAudience(request.resources, request.scopes, deps.userinfoUrl),
      scopes: request.scopes,
      ttlSeconds,
      authTime: grant.authTime,
      grantId: grant.id,
      ...(grant.actorId ? { act: agentActor(grant.actorId) } : {}),
      dpopJkt: request.dpopJkt,
      ...(action ? { authorizationDetails: action } : {}),
    },
    { keys: deps.keys, issuer: deps.issuer, now },
  );
  const response: TokenResponse = { access_token: minted.token, token_type: tokenTypeFor(request.dpopJkt), expires_in: minted.expiresIn };
  if (minted.claims.scope) response.scope = minted.claims.scope;
  // RFC 9396 §7: the token response returns the granted details.
  if (action) response.authorization_details = action;

  let refreshRecord: RefreshTokenRecord | undefined;
  if (request.rotatedRefreshToken) response.refresh_token = request.rotatedRefreshToken.token;
  else if (!action && !request.keepRefreshToken && wantsRefreshToken(grant, client)) {
    const refresh = mintRefreshToken();
    refreshRecord = {
      tokenHash: refresh.hash,
      grantId: grant.id,
      status: 'active',
      createdAt: now,
      // Not rotated, a token is never renewed: it lives as long as its grant.
      expiresAt: deps.rotateRefreshTokens === false ? grant.expiresAt : Math.min(now + deps.refreshTokenIdleTtlSeconds, grant.expiresAt),
      // RFC 9449 §5: a public client's refresh token is bound to its DPoP key; a confidential client's is bound to
      // the client by its authentication already, so it may change keys.
      dpopJkt: client.tokenEndpointAuthMethod === 'none' ? (request.dpopJkt ?? null) : null,
    };
    response.refresh_token = refresh.token;
  }
  if (request.scopes.includes('openid')) {
    response.id_token = await mintIdToken(
      { user, clientId: client.clientId, scopes: request.scopes, authTime: grant.authTime, amr: grant.amr, nonce: request.nonce, grantId: grant.id, ttlSeconds: Math.min(deps.idTokenTtlSeconds, grant.expiresAt - now) },
      { keys: deps.keys, issuer: deps.issuer, now },
    );
  }
  return { response, jti: minted.claims.jti, exp: minted.claims.exp, ...(refreshRecord ? issuedRefreshToken(refreshRecord) : {}) };
}

/**
 * The facts of a token request on a user grant (`TARGET_POLICIES.user_grant`): it may narrow what the grant may
 * still give (its granted scopes and resources within its client's and agent's current allowance).
 */
export function userGrantTargets(
  stillGiven: { scopes: readonly string[]; resources: readonly string[] },
  requestedResources: readonly string[],
  requestedScopes: readonly string[] | undefined,
): TargetFacts {
  return { requestedResources, requestedScopes, parties: [], source: { resources: stillGiven.resources, scopes: stillGiven.scopes }, registered: NO_RESOURCES };
}

/**
 * The policies over a token of a user grant (code redemption, refresh, CIBA): first the delegation-chain policy of
 * every resource it targets (issue 11 item 4: an on-behalf-of token's agent is a chain like an exchange's, and a
 * policy set since the grant applies at the next refresh; `invalid_grant`, naming the resource and the rule), then
 * the scope policies: the grant was the user's consent (or an approval), but a scope since denied, a role since
 * removed or an unmet condition refuses the token (`invalid_scope`, naming the policy). Returns the lifetime the
 * scope policies allow.
 */
export async function policyLimitedLifetime(
  targets: { scopes: readonly string[]; resources: readonly string[] },
  party: { grant: UserGrantRecord; user: UserRecord; client: ClientRecord },
  deps: Pick<UserTokenDeps, 'resources' | 'policies'>,
  now: number,
): Promise<number | undefined> {
  const { grant, user, client } = party;
  const chainPolicies = await Promise.all(targets.resources.map(async (uri) => [uri, await deps.policies.getDelegationPolicy('resource', uri)] as const));
  const token = { sub: user.id, client_id: client.clientId, ...(grant.actorId ? { act: agentActor(grant.actorId) } : {}), person: true };
  const refusal = decideChainPolicies({ token, resources: new Map(chainPolicies), step: null });
  if (refusal) throw new OAuthError('invalid_grant', refusal);
  const decision = await decideScopes({
    flow: 'user_grant',
    scopes: targets.scopes,
    resources: targets.resources,
    registered: await lookUpResources(targets.resources, deps.resources),
    parties: grant.actorId ? [client.clientId, grant.actorId] : [client.clientId],
    userRoles: async () => user.roles,
    chainDepth: grant.actorId ? 1 : 0,
    now,
  });
  if (!decision.ok) throw new OAuthError('invalid_scope', decision.description);
  return decision.maxLifetimeSeconds;
}
