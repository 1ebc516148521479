import { ACCESS_TOKEN_TYP, type AccessTokenClaims, ID_TOKEN_TYP, type IdTokenClaims } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { type AccessTokenStatusDeps, isAccessTokenActive, isUserGrantActive } from './access-token-status.ts';
import { verifyOwnJwt } from './jwt.ts';

/**
 * Tokens this server issued, presented back to it as an `actor_token` or `subject_token`: signature, `typ`, `iss`
 * and `exp` first, then whether they are still active (revocation, agents, the user grant). The failure says which,
 * for the audit trail; clients only learn that the token was not accepted.
 */
export type OwnTokenResult<C> = { ok: true; claims: C } | { ok: false; reason: 'expired' | 'invalid' | 'inactive' };

export interface OwnTokenDeps {
  keys: KeyRing;
  issuer: string;
  now: number;
  status: AccessTokenStatusDeps;
}

/**
 * The first half of every check of an access token presented back to us (introspection, revocation, actor and
 * subject tokens): ours, unexpired, with the claims we always put in. Whether it is still active is the caller's
 * next step: introspection and revocation decide that differently.
 */
export async function verifyOwnAccessToken(
  token: string,
  deps: Omit<OwnTokenDeps, 'status'>,
): Promise<OwnTokenResult<AccessTokenClaims>> {
  const result = await verifyOwnJwt(token, deps.keys, { typ: ACCESS_TOKEN_TYP, issuer: deps.issuer, now: deps.now, clockSkewSeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.failure === 'expired' ? 'expired' : 'invalid' };
  const claims = result.claims as AccessTokenClaims;
  if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.iat !== 'number') return { ok: false, reason: 'invalid' };
  return { ok: true, claims };
}

export async function verifyActiveAccessToken(token: string, deps: OwnTokenDeps): Promise<OwnTokenResult<AccessTokenClaims>> {
  const result = await verifyOwnAccessToken(token, deps);
  if (!result.ok) return result;
  return (await isAccessTokenActive(result.claims, deps.status)) ? result : { ok: false, reason: 'inactive' };
}

/** An ID token as this server issues them: one audience (the client), and a `jti`. */
export type OwnIdTokenClaims = IdTokenClaims & { aud: string; jti: string };

export async function verifyActiveIdToken(token: string, deps: OwnTokenDeps): Promise<OwnTokenResult<OwnIdTokenClaims>> {
  const result = await verifyOwnJwt(token, deps.keys, { typ: ID_TOKEN_TYP, issuer: deps.issuer, now: deps.now, clockSkewSeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.failure === 'expired' ? 'expired' : 'invalid' };
  const claims = result.claims as OwnIdTokenClaims;
  if (typeof claims.sub !== 'string' || typeof claims.aud !== 'string' || typeof claims.iat !== 'number' || typeof claims.jti !== 'string') {
    return { ok: false, reason: 'invalid' };
  }
  const client = await deps.status.clients.getClient(claims.aud);
  if (!client || client.status !== 'active' || claims.iat < client.tokensValidAfter) return { ok: false, reason: 'inactive' };
  return (await isUserGrantActive(claims, deps.status)) ? { ok: true, claims } : { ok: false, reason: 'inactive' };
}
