import { createHash } from 'node:crypto';
import { TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT } from '@mandate/protocol';
import type { AuditLog } from '../audit/audit-log.ts';
import { verifyActorToken } from '../lifecycle/actor-token.ts';
import { grantLife, type TokenLifecycleDeps } from '../lifecycle/token-lifecycle.ts';
import type { ClientAuthDeps } from '../oauth/client-authentication.ts';
import { invalidGrant, invalidRequest, OAuthError } from '../oauth/oauth-error.ts';
import { parseResourceParameters } from '../oauth/target-parameters.ts';
import { decideTargets, TARGET_POLICIES } from '../policy/token-targets.ts';
import type { UserGrantRecord, UserGrantRecords } from '../store/store.ts';
import { hashSecret } from '../tokens/secret.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';
import { issueUserTokens, policyLimitedLifetime, userGrantTargets, type UserTokenDeps } from './user-tokens.ts';

export interface AuthorizationCodeDeps extends UserTokenDeps {
  grants: Pick<UserGrantRecords, 'redeemAuthorizationCode' | 'revokeGrant'>;
  lifecycle: TokenLifecycleDeps;
  /** For an `actor_token` that is the agent's client assertion (SR-04). */
  clientAuth: ClientAuthDeps;
  audit: Pick<AuditLog, 'record'>;
}

export interface AuthorizationCodeRequest {
  code: string;
  codeVerifier: string;
  /** Must equal the authorization request's when sent (RFC 6749 §4.1.3). */
  redirectUri: string | undefined;
  /** The agent's proof that it acts here, for a grant that named an agent (OBO): lifecycle/actor-token.ts. */
  actorToken: string | undefined;
  /** Canonical `resource` URIs: a subset of the granted ones (RFC 8707 §2.2). */
  resources: string[];
}

/** RFC 7636 §4.1: 43–128 characters of the unreserved set. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const ACCESS_TOKEN_TYPES = new Set([TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT]);

/**
 * RFC 6749 §4.1.3 / OAuth 2.1 §4.1.3 authorization code grant, with PKCE S256 and the on-behalf-of extension
 * (draft-oauth-ai-agents-on-behalf-of-user-02 §4.3). Steps:
 * 1. consume the code atomically; a code seen before is a replay: revoke the grant and every token derived from it
 *    (RFC 9700 §4.5.3.1, BCP-03);
 * 2. check it belongs to this client, is unexpired, and that the redirect URI and PKCE verifier match;
 * 3. for a grant that named an agent: the `actor_token` must be that agent's proof that it acts here (SR-04: its
 *    own live token whose audience is this issuer, or its client assertion; never a token for a resource); anything
 *    else is `invalid_grant` (OBO-02);
 * 4. issue the access token (`sub` = user, `act` = agent), a refresh token with `offline_access`, an ID token with `openid`.
 * A failure after step 1 also revokes the grant: the code is spent and nothing may come of it.
 */
export function authorizationCodeGrant(deps: AuthorizationCodeDeps): Grant<AuthorizationCodeRequest> {
  const refuse = async (grant: UserGrantRecord, now: number, description: string, detail: string, clientId: string) => {
    if (await deps.grants.revokeGrant(grant.id, now)) {
      await deps.audit.record({ event: 'grant.revoked', actor: clientId, subject: grant.userId, clientId, detail: { grant_id: grant.id, reason: detail } });
    }
    return invalidGrant(description, detail);
  };

  return {
    grantType: 'authorization_code',
    repeatable: new Set(['resource']),
    parse(params) {
      const code = params.required('code');
      // RFC 9700 §2.1.1: PKCE is mandatory here, so a missing verifier is refused outright (no downgrade).
      const codeVerifier = params.required('code_verifier');
      const actorToken = params.get('actor_token');
      const actorTokenType = params.get('actor_token_type');
      if (actorTokenType !== undefined && !ACCESS_TOKEN_TYPES.has(actorTokenType)) throw invalidRequest('actor_token_type must be access_token or jwt');
      return { code, codeVerifier, redirectUri: params.get('redirect_uri'), actorToken, resources: parseResourceParameters(params) };
    },
    async handle({ client: { client }, request, now, dpopJkt }: GrantInput<AuthorizationCodeRequest>): Promise<GrantResult> {
      const { code, codeVerifier: verifier, redirectUri, actorToken } = request;
      const redemption = await deps.grants.redeemAuthorizationCode(hashSecret(code), now);
      if (redemption.status === 'unknown') throw invalidGrant('the authorization code is invalid', 'unknown code');
      if (redemption.status === 'replayed') {
        throw await refuse(redemption.grant, now, 'the authorization code was already used', 'authorization code replayed', client.clientId);
      }
      const { grant, code: record } = redemption;
      if (grant.clientId !== client.clientId) throw await refuse(grant, now, 'the authorization code was issued to another client', 'code of another client', client.clientId);
      if (record.expiresAt <= now) throw await refuse(grant, now, 'the authorization code has expired', 'expired code', client.clientId);
      if (redirectUri !== undefined && redirectUri !== record.redirectUri) throw await refuse(grant, now, 'redirect_uri does not match the authorization request', 'redirect_uri mismatch', client.clientId);
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!CODE_VERIFIER.test(verifier) || challenge !== record.codeChallenge) {
        throw await refuse(grant, now, 'code_verifier does not match the code_challenge', 'PKCE mismatch', client.clientId);
      }
      // RFC 9449 §10: a code requested with dpop_jkt is redeemed only with a proof of that key (DP-18).
      if (record.dpopJkt && record.dpopJkt !== dpopJkt) {
        throw await refuse(grant, now, 'the DPoP proof key does not match the dpop_jkt of the authorization request', dpopJkt ? 'dpop_jkt mismatch' : 'dpop_jkt without a DPoP proof', client.clientId);
      }

      if (grant.actorId) {
        if (!actorToken) throw await refuse(grant, now, 'actor_token is required: the user authorized an agent', 'missing actor_token', client.clientId);
        const actor = await verifyActorToken(actorToken, { live: { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle }, clientAuth: deps.clientAuth });
        if (!actor.ok) {
          throw await refuse(grant, now, `actor_token is not valid: ${actor.reason}`, `actor_token refused: ${actor.reason}`, client.clientId);
        }
        if (actor.record.clientId !== grant.actorId) {
          throw await refuse(grant, now, 'actor_token does not belong to the agent the user authorized', `actor_token of ${actor.record.clientId}, expected ${grant.actorId}`, client.clientId);
        }
      } else if (actorToken) {
        throw await refuse(grant, now, 'actor_token was not expected: the user authorized no agent', 'unexpected actor_token', client.clientId);
      }

      // The grant must still stand, and its tokens carry what it may still give (SR-01, SR-02).
      const life = await grantLife(grant, deps.lifecycle, now, new Map([[client.clientId, client]]));
      if (!life.alive) throw invalidGrant('the authorization is no longer valid', life.reason);
      const { user } = life;
      // The scope parameter plays no part here: the code's tokens carry what the user granted.
      const targets = decideTargets(TARGET_POLICIES.user_grant, userGrantTargets(life, request.resources, undefined));
      if (!targets.ok) throw new OAuthError(targets.error, targets.description);
      const maxLifetimeSeconds = await policyLimitedLifetime(targets, { grant, user, client }, deps, now);

      // RFC 9396: a code for one approved call yields an action token for it (short-lived, no refresh token).
      const action = record.authorizationDetails ?? undefined;
      const issued = await issueUserTokens(
        { grant, user, client, scopes: targets.scopes, resources: targets.resources, nonce: record.nonce, dpopJkt, maxLifetimeSeconds, ...(action ? { authorizationDetails: action } : {}), now },
        deps,
      );
      return {
        response: issued.response,
        audit: {
          event: 'token.issued',
          actor: grant.actorId ?? client.clientId,
          subject: user.id,
          clientId: client.clientId,
          detail: {
            grant_type: 'authorization_code',
            grant_id: grant.id,
            jti: issued.jti,
            act: grant.actorId ?? undefined,
            scope: issued.response.scope ?? '',
            exp: issued.exp,
            refresh_token_issued: issued.response.refresh_token !== undefined,
            ...(issued.refreshHash ? { refresh_hash: issued.refreshHash } : {}),
            id_token_issued: issued.response.id_token !== undefined,
            ...(action ? { authorization_details: action } : {}),
          },
        },
        ...(issued.records ? { records: issued.records } : {}),
      };
    },
  };
}
