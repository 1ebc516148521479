import type { ClientRecords, RevocationRecords } from '../store/store.ts';
import type { AccessTokenClaims, ActorClaim } from './access-token.ts';

export interface AccessTokenStatusDeps {
  revocations: Pick<RevocationRecords, 'isTokenIdRevoked'>;
  clients: Pick<ClientRecords, 'getClient'>;
}

/** The agents and clients a token speaks for: its client, an agent subject, and every agent or client in its actor chain. */
export function principalsOf(claims: AccessTokenClaims): string[] {
  const ids = new Set<string>([claims.client_id]);
  if (claims.sub_profile === 'ai_agent') ids.add(claims.sub);
  for (let actor: ActorClaim | undefined = claims.act; actor; actor = actor.act) {
    if (actor.sub_profile === 'ai_agent') ids.add(actor.sub);
    if (actor.client_id) ids.add(actor.client_id);
  }
  return [...ids];
}

/**
 * Whether a signature-valid, unexpired token is still good: not revoked, and every agent or client it speaks for
 * still exists, is active, and was not disabled after the token was issued (a disabled-then-enabled agent's old
 * tokens stay dead).
 */
export async function isAccessTokenActive(claims: AccessTokenClaims, deps: AccessTokenStatusDeps): Promise<boolean> {
  if (await deps.revocations.isTokenIdRevoked(claims.jti)) return false;
  for (const id of principalsOf(claims)) {
    const client = await deps.clients.getClient(id);
    if (!client || client.status !== 'active' || claims.iat < client.tokensValidAfter) return false;
  }
  return true;
}
