import type { AccessTokenClaims, ActClaim } from '@mandate/protocol';
import type { ClientRecords, RevocationRecords, UserGrantRecords, UserRecords } from '../store/store.ts';

export interface AccessTokenStatusDeps {
  revocations: Pick<RevocationRecords, 'isTokenIdRevoked'>;
  clients: Pick<ClientRecords, 'getClient'>;
  grants: Pick<UserGrantRecords, 'getGrant'>;
  users: Pick<UserRecords, 'getUser'>;
}

/** The agents and clients a token speaks for: its client, an agent subject, and every agent or client in its actor chain. */
function principalsOf(claims: Pick<AccessTokenClaims, 'client_id' | 'sub' | 'sub_profile' | 'act'>): string[] {
  const ids = new Set<string>([claims.client_id]);
  if (claims.sub_profile === 'ai_agent') ids.add(claims.sub);
  for (let actor: ActClaim | undefined = claims.act; actor; actor = actor.act) {
    if (actor.sub_profile === 'ai_agent') ids.add(actor.sub);
    if (actor.client_id) ids.add(actor.client_id);
  }
  return [...ids];
}

/**
 * Whether a token derived from a user's decision still stands: its grant (`gid`) exists and is not revoked (code
 * replay, refresh-token reuse, consent or refresh token revoked), and the user is active and was not disabled after
 * the token was issued. Tokens without `gid` (an agent acting for itself) have no user behind them.
 */
export async function isUserGrantActive(claims: { gid?: string | undefined; iat: number }, deps: Pick<AccessTokenStatusDeps, 'grants' | 'users'>): Promise<boolean> {
  if (claims.gid === undefined) return true;
  const grant = await deps.grants.getGrant(claims.gid);
  if (!grant || grant.status !== 'active') return false;
  const user = await deps.users.getUser(grant.userId);
  return !!user && user.status === 'active' && claims.iat >= user.tokensValidAfter;
}

/**
 * Whether a signature-valid, unexpired token is still good: not revoked, every agent or client it speaks for
 * still exists, is active, and was not disabled after the token was issued (a disabled-then-enabled agent's old
 * tokens stay dead), and the user grant it derives from, if any, still stands.
 */
export async function isAccessTokenActive(claims: AccessTokenClaims, deps: AccessTokenStatusDeps): Promise<boolean> {
  if (await deps.revocations.isTokenIdRevoked(claims.jti)) return false;
  for (const id of principalsOf(claims)) {
    const client = await deps.clients.getClient(id);
    if (!client || client.status !== 'active' || claims.iat < client.tokensValidAfter) return false;
  }
  return isUserGrantActive(claims, deps);
}
