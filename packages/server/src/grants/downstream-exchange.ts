import { type ActClaim, GRANT_TYPE_TOKEN_EXCHANGE, RESOURCE_SERVER_PROFILE, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { type TokenLifecycleDeps, verifyLiveAccessToken } from '../lifecycle/token-lifecycle.ts';
import { invalidRequest, OAuthError } from '../oauth/oauth-error.ts';
import { decideChainPolicies } from '../policy/chain-policy.ts';
import { decideExchangeBinding } from '../policy/dpop-binding.ts';
import { chainDepth, decideScopes } from '../policy/scope-policy.ts';
import { classifyExchangeAudiences } from '../policy/token-audiences.ts';
import { decideTargets, TARGET_POLICIES } from '../policy/token-targets.ts';
import type { DelegationPolicyRecords, ResourceRecord, ResourceRecords, RevocationRecords, UserRecords } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import { type GrantResult, tokenTypeFor } from './grant.ts';
import { lookUpResources } from './registered-resources.ts';
import { chainParties, type ExchangeDryRun, type TokenExchangeRequest } from './token-exchange.ts';
import type { VerifiedAccessToken } from '../tokens/own-token.ts';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.ts';

export interface DownstreamExchangeDeps {
  keys: KeyRing;
  issuer: string;
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  lifecycle: TokenLifecycleDeps;
  policies: Pick<DelegationPolicyRecords, 'getDelegationPolicy'>;
  lineage: Pick<RevocationRecords, 'recordDerivation'>;
  /** The user's roles, for a scope policy that requires one (issue 12). */
  users: Pick<UserRecords, 'getUser'>;
  maxChainDepth: number;
  /** The server's access-token lifetime: a downstream token lives no longer, nor beyond its subject token. */
  defaultAccessTokenTtlSeconds: number;
}

/** The `act` node of a resource server: its resource URI is its `sub` and its `client_id`. */
export const resourceServerAct = (uri: string, inner: ActClaim | undefined): ActClaim => ({
  sub: uri,
  client_id: uri,
  sub_profile: RESOURCE_SERVER_PROFILE,
  ...(inner ? { act: inner } : {}),
});

/**
 * RFC 8693 token exchange by a resource server (an MCP server or gateway, issue 11 item 2), authenticated by its
 * API key: it exchanges a token whose audience is itself for a token to a downstream resource it may call on
 * (`downstream_resources` of its registration), on the same subject's behalf. Steps: the subject token is ours,
 * alive, and names this resource server in `aud` → no `actor_token` (the API key proves the actor) → targets by
 * `downstream_exchange` (allowed downstream, within the user's consent, scopes the subject holds and the
 * downstream defines) → the caller's chain with the resource server appended outermost, no deeper than the
 * configured maximum and the target resources' chain policies → the scopes' policies (issue 12) → DPoP: a bound subject needs the resource server's
 * own proof, and the result is bound to it → mint for the server's access-token lifetime, never beyond the subject
 * (nor beyond the grace period of the key it was obtained with), record the lineage. `check` is the dry run.
 */
export function downstreamExchange(deps: DownstreamExchangeDeps) {
  // A gateway exchanges the token it received for each downstream call: its signature is checked once, its life every time.
  const verified = new VerifiedTokenCache<VerifiedAccessToken>();

  /**
   * Everything the exchange decides before it mints, for `handle` and for the admin API's dry run (`check`): the
   * subject, the chain, the targets, the policies and the latest expiry. Throws the refusal.
   */
  async function decide(resource: ResourceRecord, request: TokenExchangeRequest, now: number) {
    if (request.subjectTokenType !== TOKEN_TYPE_ACCESS_TOKEN && request.subjectTokenType !== TOKEN_TYPE_JWT) {
      throw invalidRequest('a resource server exchanges an access token it received (subject_token_type access_token or jwt)');
    }
    if (request.actorToken !== undefined) throw invalidRequest('a resource server proves itself with its API key: actor_token is not used');
    const live = await verifyLiveAccessToken(request.subjectToken, { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle, verified });
    if (!live.ok) throw invalidRequest(`subject_token is not valid (${live.reason})`);
    const subject = live.claims;
    if (!live.life.audiences.includes(resource.uri)) {
      throw invalidRequest(`the subject token's audience is not this resource server (${resource.uri})`);
    }

    const party = { label: `resource server ${resource.uri}`, kind: 'agent' as const, allowedScopes: [], allowedAudiences: resource.downstreamResources };
    // SR-03: a user grant at the root bounds every resource by what the user consented to.
    const grant = live.life.grant?.alive ? live.life.grant : null;
    const source = { resources: live.life.audiences, scopes: live.life.scopes, ...(subject.gid !== undefined ? { consented: grant?.resources ?? [] } : {}) };
    const policy = TARGET_POLICIES.downstream_exchange;
    const audienceUris = request.audiences.flatMap((a) => (a.canonicalUri ? [a.canonicalUri] : []));
    const registered = await lookUpResources(
      policy.lookUp({ requestedResources: [...request.resources, ...audienceUris], requestedScopes: request.scopes, parties: [party], source }),
      deps.resources,
    );
    // No agent hand-off here: every audience must be a registered resource.
    const classified = classifyExchangeAudiences(request.resources, request.audiences, { registered, agents: new Map() });
    if (!classified.ok) throw new OAuthError(classified.error, classified.description);
    const targets = decideTargets(policy, { requestedResources: classified.resources, requestedScopes: request.scopes, parties: [party], source, registered });
    if (!targets.ok) throw new OAuthError(targets.error, targets.description);

    const act = resourceServerAct(resource.uri, subject.act);
    if (chainDepth(act) > deps.maxChainDepth) throw invalidRequest(`the delegation chain would exceed ${deps.maxChainDepth} actors`);
    const token = { sub: subject.sub, ...(subject.sub_profile ? { sub_profile: subject.sub_profile } : {}), client_id: subject.client_id, act, person: subject.gid !== undefined };
    const resourcePolicies = await Promise.all(targets.resources.map(async (uri) => [uri, await deps.policies.getDelegationPolicy('resource', uri)] as const));
    // The agent did not hand its token on by exchange: it sent it to this resource server, its audience. So no
    // agent's `may_delegate_to` applies; the downstream resources' own policies do.
    const refusal = decideChainPolicies({ token, resources: new Map(resourcePolicies), step: null });
    if (refusal) throw invalidRequest(refusal);

    // Scope policies (issue 12), as for every exchange: a user grant at the root was the consent.
    const scopePolicies = await decideScopes({
      flow: subject.gid !== undefined ? 'user_grant' : 'client',
      scopes: targets.scopes,
      resources: targets.resources,
      registered,
      parties: [...new Set([subject.client_id, ...chainParties(act)])],
      userRoles: async () => (subject.gid !== undefined ? ((await deps.users.getUser(subject.sub))?.roles ?? []) : null),
      chainDepth: chainDepth(act),
      now,
    });
    if (!scopePolicies.ok) throw new OAuthError('invalid_scope', scopePolicies.description);
    // Never beyond the subject, nor beyond a replaced key's grace period in the subject's chain.
    const exp = Math.min(now + Math.min(deps.defaultAccessTokenTtlSeconds, scopePolicies.maxLifetimeSeconds ?? Infinity), subject.exp, live.life.notAfter ?? Infinity);
    return { subject, act, targets, exp };
  }

  return {
    /**
     * The dry run (admin API): would this resource server be allowed this exchange, and what would it get? Every
     * check of `handle` but the API key's and the DPoP proof's; mints and records nothing.
     */
    async check({ resource, request, now }: { resource: ResourceRecord; request: TokenExchangeRequest; now: number }): Promise<ExchangeDryRun> {
      try {
        const { subject, act, targets, exp } = await decide(resource, request, now);
        return {
          allowed: true,
          token: { sub: subject.sub, client_id: subject.client_id, aud: targets.resources, scope: targets.scopes.join(' '), act, exp, ...(subject.gid !== undefined ? { gid: subject.gid } : {}) },
        };
      } catch (err) {
        if (err instanceof OAuthError) return { allowed: false, error: err.error, error_description: err.message };
        throw err;
      }
    },
    async handle({ resource, keyId, request, now, dpopJkt }: { resource: ResourceRecord; keyId: string; request: TokenExchangeRequest; now: number; dpopJkt: string | undefined }): Promise<GrantResult> {
      const decided = await decide(resource, request, now);
      const { subject, act, targets } = decided;
      // Obtained with the key a rotation replaced: it lives no longer than that key is honoured (its grace period).
      const keyEnds = keyId !== resource.apiKeyId ? (resource.previousApiKeyExpiresAt ?? now) : Infinity;
      const exp = Math.min(decided.exp, keyEnds);
      const binding = decideExchangeBinding({ subjectJkt: subject.cnf?.jkt, subjectClientId: subject.client_id, actorJkt: undefined, hasActorToken: true, clientId: resource.uri, proofJkt: dpopJkt });
      if (!binding.ok) throw invalidRequest(binding.description);

      const ttl = exp - now;
      const minted = await mintAccessToken(
        {
          subject: subject.sub,
          subjectIsAgent: subject.sub_profile === 'ai_agent',
          // The application (or agent) the user authorized stays the token's client: the lifecycle keeps checking it.
          clientId: subject.client_id,
          audience: targets.resources,
          scopes: targets.scopes,
          ttlSeconds: ttl,
          act,
          ...(subject.gid !== undefined ? { grantId: subject.gid } : {}),
          ...(subject.auth_time !== undefined ? { authTime: subject.auth_time } : {}),
          dpopJkt: binding.jkt,
        },
        { keys: deps.keys, issuer: deps.issuer, now },
      );
      if (!(await deps.lineage.recordDerivation(minted.claims.jti, [subject.jti], minted.claims.exp, [minted.claims.aud].flat()))) {
        throw invalidRequest('subject_token is not valid (inactive)', 'a parent token was revoked while the exchange ran');
      }
      return {
        response: { access_token: minted.token, issued_token_type: request.requestedTokenType, token_type: tokenTypeFor(binding.jkt), expires_in: minted.expiresIn, scope: targets.scopes.join(' ') },
        audit: {
          event: 'token.issued',
          actor: resource.uri,
          subject: subject.sub,
          clientId: subject.client_id,
          detail: {
            grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
            exchanged_by: 'resource_server',
            resource_server: resource.uri,
            jti: minted.claims.jti,
            subject_jti: subject.jti,
            parent_jtis: [subject.jti],
            act: minted.claims.act,
            aud: minted.claims.aud,
            scope: targets.scopes.join(' '),
            exp: minted.claims.exp,
            grant_id: subject.gid,
          },
        },
      };
    },
  };
}

export type DownstreamExchange = ReturnType<typeof downstreamExchange>;
