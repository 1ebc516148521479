import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims, type ActClaim, type AuthorizationDetail, type MayActClaim } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { encodeJwt } from './jwt.ts';

export interface AccessTokenGrant {
  subject: string;
  subjectIsAgent: boolean;
  clientId: string;
  /** Canonical resource URIs; one becomes a string `aud`, several an array. */
  audience: readonly string[];
  scopes: readonly string[];
  ttlSeconds: number;
  act?: ActClaim;
  dpopJkt?: string;
  authTime?: number;
  grantId?: string;
  mayAct?: MayActClaim;
  /** RFC 9396 §9.1: the approved details (an action token's one `mcp_tool` call). */
  authorizationDetails?: readonly AuthorizationDetail[];
}

export interface MintedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}

/** Signs an RFC 9068 JWT access token with the active key. */
export async function mintAccessToken(grant: AccessTokenGrant, deps: { keys: KeyRing; issuer: string; now: number }): Promise<MintedAccessToken> {
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
  if (grant.authorizationDetails !== undefined) claims.authorization_details = [...grant.authorizationDetails];
  return { token: await encodeJwt(deps.keys.active, ACCESS_TOKEN_TYP, claims), claims, expiresIn: grant.ttlSeconds };
}
