import { ACCESS_TOKEN_TYP, type AccessTokenClaims, ID_TOKEN_TYP, type IdTokenClaims } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { verifyOwnJwt } from './jwt.ts';
import { VerifiedTokenCache } from './verified-token-cache.ts';

/**
 * Tokens this server issued, presented back to it (introspection, revocation, userinfo, actor and subject tokens):
 * signature, `typ`, `iss` and `exp` first, and the claims we always put in. Whether the token is still alive is
 * the next step, lifecycle/token-lifecycle.ts's. The failure says which, for the audit trail; clients only learn
 * that the token was not accepted.
 */
export type OwnTokenResult<C> = { ok: true; claims: C } | { ok: false; reason: 'expired' | 'invalid' };

export interface OwnTokenDeps {
  keys: KeyRing;
  issuer: string;
  now: number;
  /**
   * Access tokens whose checks here already passed, by the SHA-256 of the whole token, until their `exp`: a hit
   * skips the signature check only while the key that verified it may still verify (a retired key past its
   * publication window ends its tokens here too). Whether the token is alive is never cached (token-lifecycle.ts).
   */
  verified?: VerifiedTokenCache<VerifiedAccessToken>;
}

/** A cache entry of `OwnTokenDeps.verified`: the claims (frozen: every hit shares them) and the key that verified them. */
export interface VerifiedAccessToken {
  claims: AccessTokenClaims;
  kid: string;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export async function verifyOwnAccessToken(token: string, deps: OwnTokenDeps): Promise<OwnTokenResult<AccessTokenClaims>> {
  const cacheKey = deps.verified ? VerifiedTokenCache.keyOf(token) : undefined;
  if (cacheKey !== undefined) {
    const hit = deps.verified!.get(cacheKey, deps.now);
    if (hit && deps.keys.verificationKey(hit.kid)) return { ok: true, claims: hit.claims };
  }
  const result = await verifyOwnJwt(token, deps.keys, { typ: ACCESS_TOKEN_TYP, issuer: deps.issuer, now: deps.now, clockSkewSeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.failure === 'expired' ? 'expired' : 'invalid' };
  const claims = result.claims as AccessTokenClaims;
  if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.iat !== 'number' || typeof claims.jti !== 'string') {
    return { ok: false, reason: 'invalid' };
  }
  if (cacheKey !== undefined) deps.verified!.set(cacheKey, { claims: deepFreeze(claims), kid: result.kid }, claims.exp);
  return { ok: true, claims };
}

/** An ID token as this server issues them: one audience (the client), and a `jti`. */
export type OwnIdTokenClaims = IdTokenClaims & { aud: string; jti: string };

export async function verifyOwnIdToken(token: string, deps: OwnTokenDeps): Promise<OwnTokenResult<OwnIdTokenClaims>> {
  const result = await verifyOwnJwt(token, deps.keys, { typ: ID_TOKEN_TYP, issuer: deps.issuer, now: deps.now, clockSkewSeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.failure === 'expired' ? 'expired' : 'invalid' };
  const claims = result.claims as OwnIdTokenClaims;
  if (typeof claims.sub !== 'string' || typeof claims.aud !== 'string' || typeof claims.iat !== 'number' || typeof claims.jti !== 'string') {
    return { ok: false, reason: 'invalid' };
  }
  return { ok: true, claims };
}
