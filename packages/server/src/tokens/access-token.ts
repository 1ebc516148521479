import { randomUUID } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring.ts';
import { encodeJwt } from './jwt.ts';

/** RFC 8693 §4.1 actor claim: the current actor outermost, earlier actors nested inside. */
export interface ActorClaim {
  sub: string;
  client_id?: string;
  /** `ai_agent` when the actor is an agent (draft-mcguinness-oauth-actor-profile, as Auth0 emits it). */
  sub_profile?: string;
  iss?: string;
  act?: ActorClaim;
}

/** RFC 9068 §2.2 claims of a Mandate access token, plus the extensions Mandate uses. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
  /** `ai_agent` when the subject itself is an agent acting for itself. */
  sub_profile?: string;
  act?: ActorClaim;
  /** RFC 9449 §6.1 key binding. */
  cnf?: { jkt: string };
  auth_time?: number;
  acr?: string;
  /**
   * Mandate extension: the user grant this token derives from (authorization code, refresh, or a token exchange of
   * such a token). Introspection treats the token as inactive once that grant is revoked (code replay, refresh-token
   * reuse, consent revoked, user disabled), so revocation reaches every token derived from a user's decision.
   */
  gid?: string;
  /** RFC 8693 §4.4: the party authorised to become the actor for this subject (Mandate sets it on hand-off tokens). */
  may_act?: { sub: string };
}

export interface AccessTokenGrant {
  subject: string;
  subjectIsAgent: boolean;
  clientId: string;
  /** Canonical resource URIs; one becomes a string `aud`, several an array. */
  audience: readonly string[];
  scopes: readonly string[];
  ttlSeconds: number;
  act?: ActorClaim;
  dpopJkt?: string;
  authTime?: number;
  grantId?: string;
  mayAct?: { sub: string };
}

export interface MintedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}

export const ACCESS_TOKEN_TYP = 'at+jwt';
/** RFC 9068 §4: resource servers accept the short and the full media type. */
export const ACCESS_TOKEN_TYPS = ['at+jwt', 'application/at+jwt'] as const;

/** Signs an RFC 9068 JWT access token with the active key. */
export function mintAccessToken(grant: AccessTokenGrant, deps: { keys: KeyRing; issuer: string; now: number }): MintedAccessToken {
  const claims: AccessTokenClaims = {
    iss: deps.issuer,
    sub: grant.subject,
    aud: grant.audience.length === 1 ? grant.audience[0]! : [...grant.audience],
    exp: deps.now + grant.ttlSeconds,
    iat: deps.now,
    jti: randomUUID(),
    client_id: grant.clientId,
  };
  if (grant.scopes.length > 0) claims.scope = grant.scopes.join(' ');
  if (grant.subjectIsAgent) claims.sub_profile = 'ai_agent';
  if (grant.act) claims.act = grant.act;
  if (grant.dpopJkt) claims.cnf = { jkt: grant.dpopJkt };
  if (grant.authTime !== undefined) claims.auth_time = grant.authTime;
  if (grant.grantId !== undefined) claims.gid = grant.grantId;
  if (grant.mayAct !== undefined) claims.may_act = grant.mayAct;
  return { token: encodeJwt(deps.keys.active, ACCESS_TOKEN_TYP, claims), claims, expiresIn: grant.ttlSeconds };
}
