import { randomUUID } from 'node:crypto';
import { ID_TOKEN_TYP, type IdTokenClaims } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import type { UserRecord } from '../store/store.ts';
import { encodeJwt } from './jwt.ts';

/** The user claims a scope set releases (OIDC Core §5.4): `email` → email, email_verified; `profile` → name. */
export function userClaims(user: UserRecord, scopes: readonly string[]): Pick<IdTokenClaims, 'email' | 'email_verified' | 'name'> {
  const claims: Pick<IdTokenClaims, 'email' | 'email_verified' | 'name'> = {};
  if (scopes.includes('email') && user.email) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  if (scopes.includes('profile') && user.name) claims.name = user.name;
  return claims;
}

export interface IdTokenInput {
  user: UserRecord;
  clientId: string;
  scopes: readonly string[];
  authTime: number;
  /** RFC 8176 values; left out when empty. */
  amr: readonly string[];
  nonce: string | null;
  grantId: string;
  ttlSeconds: number;
}

/** Signs an ID token (`typ: JWT`) with the active key; its audience is the client alone (OIDC Core §2). */
export function mintIdToken(input: IdTokenInput, deps: { keys: KeyRing; issuer: string; now: number }): Promise<string> {
  const claims: IdTokenClaims = {
    iss: deps.issuer,
    sub: input.user.id,
    aud: input.clientId,
    exp: deps.now + input.ttlSeconds,
    iat: deps.now,
    auth_time: input.authTime,
    ...(input.amr.length > 0 && { amr: [...input.amr] }),
    jti: randomUUID(),
    ...(input.nonce !== null && { nonce: input.nonce }),
    ...userClaims(input.user, input.scopes),
    gid: input.grantId,
  };
  return encodeJwt(deps.keys.active, ID_TOKEN_TYP, claims);
}
