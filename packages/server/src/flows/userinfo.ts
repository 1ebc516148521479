import type { KeyRing } from '../keys/key-ring.ts';
import type { UserRecords } from '../store/store.ts';
import { type TokenLifecycleDeps, verifyLiveAccessToken } from '../lifecycle/token-lifecycle.ts';
import { userClaims } from '../tokens/id-token.ts';

export interface UserinfoDeps {
  keys: KeyRing;
  issuer: string;
  /** This endpoint's URL: the audience a token must name to be accepted here. */
  userinfoUrl: string;
  lifecycle: TokenLifecycleDeps;
  users: Pick<UserRecords, 'getUser'>;
}

/** The claims about the user, or an RFC 6750 §3.1 error for the endpoint's challenge. */
export type UserinfoResult =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; error: 'invalid_token' | 'insufficient_scope'; description: string };

/**
 * OIDC Core §5.3 UserInfo. The access token must be ours, active, meant for this endpoint (its `aud` names the
 * userinfo URL: tokens for a resource server are not accepted here, RFC 9700 §4.10), carry `openid`, and be about
 * a user.
 */
export function userinfoFlow(deps: UserinfoDeps) {
  return async function userinfo({ token, now }: { token: string; now: number }): Promise<UserinfoResult> {
    const result = await verifyLiveAccessToken(token, { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle });
    if (!result.ok) return { ok: false, error: 'invalid_token', description: 'the access token is not valid' };
    const { claims } = result;
    if (![claims.aud].flat().includes(deps.userinfoUrl)) return { ok: false, error: 'invalid_token', description: 'the access token is not meant for userinfo' };
    const scopes = (claims.scope ?? '').split(' ');
    if (!scopes.includes('openid')) return { ok: false, error: 'insufficient_scope', description: 'the openid scope is required' };
    const user = claims.gid ? await deps.users.getUser(claims.sub) : null;
    if (!user) return { ok: false, error: 'invalid_token', description: 'the access token is not about a user' };
    return { ok: true, claims: { sub: user.id, ...userClaims(user, scopes) } };
  };
}

export type UserinfoFlow = ReturnType<typeof userinfoFlow>;
