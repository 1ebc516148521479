import type { KeyRing } from '../keys/key-ring.ts';
import type { UserRecords } from '../store/store.ts';
import { type TokenLifecycleDeps, verifyLiveAccessToken } from '../lifecycle/token-lifecycle.ts';
import { checkDpopProof, type DpopDeps } from '../oauth/dpop.ts';
import { userClaims } from '../tokens/id-token.ts';

export interface UserinfoDeps {
  keys: KeyRing;
  issuer: string;
  /** This endpoint's URL: the audience a token must name to be accepted here, and the `htu` of DPoP proofs. */
  userinfoUrl: string;
  lifecycle: TokenLifecycleDeps;
  users: Pick<UserRecords, 'getUser'>;
  dpop: DpopDeps;
}

/** The access token as presented: its scheme (RFC 6750 `Bearer` or RFC 9449 `DPoP`) and, for DPoP, the proof. */
export interface UserinfoRequest {
  token: string;
  scheme: 'Bearer' | 'DPoP';
  /** The `DPoP` header's value, when sent. */
  proof: string | undefined;
  method: 'GET' | 'POST';
  now: number;
}

/** The claims about the user, or an RFC 6750 §3.1 / RFC 9449 §7.1 error for the endpoint's challenge. */
export type UserinfoResult =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; error: 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce'; description: string; dpopBound?: true };

/**
 * OIDC Core §5.3 UserInfo. The access token must be ours, active, meant for this endpoint (its `aud` names the
 * userinfo URL: tokens for a resource server are not accepted here, RFC 9700 §4.10), carry `openid`, and be about
 * a user. A DPoP-bound token (`cnf.jkt`) is accepted only with the `DPoP` scheme and a proof of its key for this
 * request, with `ath` (RFC 9449 §7.1); sent as a bearer token it is refused (DP-20).
 */
export function userinfoFlow(deps: UserinfoDeps) {
  return async function userinfo({ token, scheme, proof, method, now }: UserinfoRequest): Promise<UserinfoResult> {
    const result = await verifyLiveAccessToken(token, { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle });
    if (!result.ok) return { ok: false, error: 'invalid_token', description: 'the access token is not valid' };
    const { claims } = result;
    const jkt = claims.cnf?.jkt;
    if (jkt !== undefined && scheme !== 'DPoP') return { ok: false, error: 'invalid_token', description: 'a DPoP-bound access token must be sent with the DPoP scheme and a proof', dpopBound: true };
    if (scheme === 'DPoP') {
      if (jkt === undefined) return { ok: false, error: 'invalid_token', description: 'the access token is not DPoP-bound' };
      if (proof === undefined) return { ok: false, error: 'invalid_dpop_proof', description: 'a DPoP proof is required' };
      const check = await checkDpopProof({ proof, method, url: deps.userinfoUrl, accessToken: token, jkt }, deps.dpop, now);
      if (!check.ok) return { ok: false, error: check.error, description: check.description };
    }
    if (![claims.aud].flat().includes(deps.userinfoUrl)) return { ok: false, error: 'invalid_token', description: 'the access token is not meant for userinfo' };
    const scopes = (claims.scope ?? '').split(' ');
    if (!scopes.includes('openid')) return { ok: false, error: 'insufficient_scope', description: 'the openid scope is required' };
    const user = claims.gid ? await deps.users.getUser(claims.sub) : null;
    if (!user) return { ok: false, error: 'invalid_token', description: 'the access token is not about a user' };
    return { ok: true, claims: { sub: user.id, ...userClaims(user, scopes) } };
  };
}

export type UserinfoFlow = ReturnType<typeof userinfoFlow>;
