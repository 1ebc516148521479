import type { AuditLog } from '../audit/audit-log.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { unauthorizedClient } from '../oauth/oauth-error.ts';
import type { ClientRecord, RevocationRecords, UserGrantRecords } from '../store/store.ts';
import { verifyOwnAccessToken, verifyOwnIdToken } from '../tokens/own-token.ts';
import { refreshTokenHash } from '../tokens/refresh-token.ts';

export interface RevocationDeps {
  grants: Pick<UserGrantRecords, 'getRefreshToken' | 'getGrant' | 'revokeGrant'>;
  revocations: Pick<RevocationRecords, 'revokeTokenId'>;
  keys: KeyRing;
  issuer: string;
  audit: Pick<AuditLog, 'record'>;
}

export interface RevocationInput {
  /** The authenticated client asking. */
  client: ClientRecord;
  token: string;
  ip: string;
  now: number;
}

/**
 * RFC 7009 token revocation. The client must own the token (RFC 7009 §2.1); an unknown, invalid or expired token
 * has no effect (§2.2), since there is nothing left to revoke. A refresh token revokes its whole grant, so the
 * access tokens issued from it (which carry the grant's `gid`) become inactive too (§2.1: SHOULD). An access token
 * takes its descendants along: every token exchanged from it, directly or further down (the lineage); so does an
 * ID token of ours issued to the client (an impersonation exchange's subject token, SR-10).
 */
export function revocationFlow(deps: RevocationDeps) {
  const refuseForeign = async (input: RevocationInput, detail: Record<string, unknown>) => {
    const { client } = input;
    await deps.audit.record({ event: 'token.revocation_refused', actor: client.clientId, clientId: client.clientId, ip: input.ip, detail: { ...detail, reason: 'not the token owner' } });
    return unauthorizedClient('the token was not issued to this client');
  };

  return {
    parse: (params: FormParams): { token: string } => ({ token: params.required('token') }),

    async revoke(input: RevocationInput): Promise<void> {
      const { client, token, now } = input;
      const refreshHash = refreshTokenHash(token);
      if (refreshHash) {
        const record = await deps.grants.getRefreshToken(refreshHash);
        const grant = record ? await deps.grants.getGrant(record.grantId) : null;
        if (!grant) return;
        if (grant.clientId !== client.clientId) throw await refuseForeign(input, { grant_id: grant.id });
        if (await deps.grants.revokeGrant(grant.id, now)) {
          await deps.audit.record({
            event: 'grant.revoked',
            actor: client.clientId,
            subject: grant.userId,
            clientId: client.clientId,
            ip: input.ip,
            detail: { grant_id: grant.id, reason: 'refresh token revoked by the client' },
          });
        }
        return;
      }
      const own = { keys: deps.keys, issuer: deps.issuer, now };
      const access = await verifyOwnAccessToken(token, own);
      // An ID token is revocable too (beyond RFC 7009, which names access and refresh tokens): with impersonation
      // on, it is a token exchange's subject, and what was exchanged from it must be revocable through it.
      const id = access.ok ? null : await verifyOwnIdToken(token, own);
      const claims = access.ok ? { ...access.claims, owner: access.claims.client_id } : id?.ok ? { ...id.claims, owner: id.claims.aud } : null;
      if (!claims) return;
      if (claims.owner !== client.clientId) throw await refuseForeign(input, { jti: claims.jti });
      // Every token exchanged from it, however many hops down, goes with it (the lineage).
      const descendants = await deps.revocations.revokeTokenId(claims.jti, claims.exp, now, [claims.aud].flat());
      await deps.audit.record({
        event: 'token.revoked',
        actor: client.clientId,
        subject: claims.sub,
        clientId: client.clientId,
        ip: input.ip,
        detail: { jti: claims.jti, ...(access.ok ? {} : { token_type: 'id_token' }), descendants_revoked: descendants },
      });
    },
  };
}

export type RevocationFlow = ReturnType<typeof revocationFlow>;
