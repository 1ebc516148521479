import type { AuditLog } from '../audit/audit-log.ts';
import { grantLife, type TokenLifecycleDeps } from '../lifecycle/token-lifecycle.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { invalidGrant, OAuthError } from '../oauth/oauth-error.ts';
import { decideTargets, TARGET_POLICIES } from '../policy/token-targets.ts';
import type { UserGrantRecord, UserGrantRecords } from '../store/store.ts';
import { mintRefreshToken, refreshTokenHash } from '../tokens/refresh-token.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';
import { issuedRefreshToken, issueUserTokens, policyLimitedLifetime, userGrantTargets, type UserTokenDeps } from './user-tokens.ts';

export interface RefreshTokenDeps extends UserTokenDeps {
  grants: Pick<UserGrantRecords, 'getRefreshToken' | 'retireRefreshToken' | 'getGrant' | 'revokeGrant'>;
  lifecycle: Pick<TokenLifecycleDeps, 'clients' | 'users'>;
  audit: Pick<AuditLog, 'record'>;
}

export interface RefreshTokenRequest {
  refreshToken: string;
  /** Undefined when the request has no `scope`: the grant's scopes. */
  scopes: string[] | undefined;
  /** Canonical `resource` URIs; empty for the grant's resources. */
  resources: string[];
}

/**
 * RFC 6749 §6 refresh with rotation (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2, BCP-04, MCP-AS-03; not in the FAPI 2.0 mode,
 * where a confidential client's token is used again, `rotateRefreshTokens`): every use returns a
 * new refresh token and retires the old one. A retired token presented again means two parties hold the family:
 * the whole grant is revoked (its refresh tokens and every access token carrying its `gid`). The token is bound to
 * its client. The grant must still stand (lifecycle/token-lifecycle.ts: its user, client and agent active and not
 * disabled since it was made, SR-01), and the new tokens carry what it may still give: the granted scopes and
 * resources its client and agent may hold now (SR-02); `scope` and `resource` may only narrow that.
 */
export function refreshTokenGrant(deps: RefreshTokenDeps): Grant<RefreshTokenRequest> {
  const revokeFamily = async (grant: UserGrantRecord, now: number, reason: string, clientId: string) => {
    if (await deps.grants.revokeGrant(grant.id, now)) {
      await deps.audit.record({ event: 'grant.revoked', actor: clientId, subject: grant.userId, clientId, detail: { grant_id: grant.id, reason } });
    }
  };

  return {
    grantType: 'refresh_token',
    repeatable: new Set(['resource']),
    parse(params) {
      return { refreshToken: params.required('refresh_token'), scopes: parseScope(params.get('scope')), resources: parseResourceParameters(params) };
    },
    async handle({ client: { client }, request, now, dpopJkt }: GrantInput<RefreshTokenRequest>): Promise<GrantResult> {
      const hash = refreshTokenHash(request.refreshToken);
      const record = hash ? await deps.grants.getRefreshToken(hash) : null;
      const grant = record ? await deps.grants.getGrant(record.grantId) : null;
      if (!record || !grant) throw invalidGrant('the refresh token is invalid', 'unknown refresh token');
      // RFC 6749 §6: bound to the client it was issued to. Another client's attempt must not rotate (or burn) it.
      if (grant.clientId !== client.clientId) throw invalidGrant('the refresh token is invalid', 'refresh token of another client');
      if (record.status === 'rotated') {
        await revokeFamily(grant, now, 'refresh token reused', client.clientId);
        throw invalidGrant('the refresh token was already used', 'refresh token reuse: family revoked');
      }
      if (grant.status !== 'active') throw invalidGrant('the refresh token is invalid', 'grant revoked');
      if (record.expiresAt <= now || grant.expiresAt <= now) throw invalidGrant('the refresh token has expired', 'expired refresh token');
      // RFC 9449 §5: a bound refresh token is used only with a proof of its key (DP-17); it is not rotated otherwise.
      if (record.dpopJkt && record.dpopJkt !== dpopJkt) {
        throw invalidGrant('the refresh token is bound to another DPoP key', dpopJkt ? 'refresh token DPoP key mismatch' : 'bound refresh token without a DPoP proof');
      }
      const life = await grantLife(grant, deps.lifecycle, now, new Map([[client.clientId, client]]));
      if (!life.alive) throw invalidGrant('the refresh token is invalid', life.reason);
      const { user } = life;

      const targets = decideTargets(TARGET_POLICIES.user_grant, userGrantTargets(life, request.resources, request.scopes));
      if (!targets.ok) throw new OAuthError(targets.error, targets.description);
      const maxLifetimeSeconds = await policyLimitedLifetime(targets, { grant, user, client }, deps, now);
      const tokenRequest = { grant, user, client, scopes: targets.scopes, resources: targets.resources, nonce: null, dpopJkt, maxLifetimeSeconds, now };
      const result = (issued: Awaited<ReturnType<typeof issueUserTokens>>): GrantResult => ({
        response: issued.response,
        audit: {
          event: 'token.issued',
          actor: grant.actorId ?? client.clientId,
          subject: user.id,
          clientId: client.clientId,
          detail: { grant_type: 'refresh_token', grant_id: grant.id, jti: issued.jti, act: grant.actorId ?? undefined, scope: issued.response.scope ?? '', exp: issued.exp, refresh_hash: issued.refreshHash },
        },
        ...(issued.records ? { records: issued.records } : {}),
      });
      if (deps.rotateRefreshTokens === false) {
        // The FAPI 2.0 mode: the same token again (bound to the client's private_key_jwt authentication).
        return result(await issueUserTokens({ ...tokenRequest, keepRefreshToken: true }, deps));
      }

      // The old token is retired now (its single use decided here); its successor is written with the audit row.
      const rotation = await deps.grants.retireRefreshToken(record.tokenHash);
      if (rotation !== 'rotated') {
        // A concurrent request rotated it first: the same token was used twice.
        await revokeFamily(grant, now, 'refresh token reused concurrently', client.clientId);
        throw invalidGrant('the refresh token was already used', 'refresh token reuse (concurrent): family revoked');
      }

      const next = mintRefreshToken();
      const successor = issuedRefreshToken({
        tokenHash: next.hash,
        grantId: grant.id,
        status: 'active',
        createdAt: now,
        expiresAt: Math.min(now + deps.refreshTokenIdleTtlSeconds, grant.expiresAt),
        dpopJkt: record.dpopJkt ?? null,
      });
      return result({ ...(await issueUserTokens({ ...tokenRequest, rotatedRefreshToken: { token: next.token } }, deps)), ...successor });
    },
  };
}
