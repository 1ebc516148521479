import { randomUUID } from 'node:crypto';
import { type ActClaim, ID_JAG_TYP } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { encodeJwt } from './jwt.ts';

/**
 * The JWT authorization grants this server issues for a peer authorization server (RFC 7523 §2.1): the identity
 * chaining grant (draft-ietf-oauth-identity-chaining §2.3, `typ: JWT`) and the ID-JAG
 * (draft-ietf-oauth-identity-assertion-authz-grant §3, `typ: oauth-id-jag+jwt`). Both name one audience, the peer's
 * issuer, carry a `jti` the peer keeps single-use, and live minutes. Neither is an access token: no resource of
 * ours accepts it (its `aud` is the peer, its `typ` is not `at+jwt`).
 */

export interface AuthorizationGrantInput {
  /** The peer's issuer: the grant's only `aud`. */
  audience: string;
  subject: string;
  /** The client's id at the peer (ID-JAG `client_id`). */
  clientId: string;
  scopes: readonly string[];
  /** RFC 8707 resources at the peer, as the client asked for them. */
  resources: readonly string[];
  ttlSeconds: number;
  email?: string;
  authTime?: number;
  act?: ActClaim;
  /** RFC 9449: the key the peer must see proven (`cnf.jkt`) before it issues anything. */
  dpopJkt?: string;
}

export interface MintedAuthorizationGrant {
  token: string;
  claims: Record<string, unknown> & { jti: string; exp: number };
  expiresIn: number;
}

function claimsOf(input: AuthorizationGrantInput, deps: { issuer: string; now: number }) {
  return {
    iss: deps.issuer,
    sub: input.subject,
    aud: input.audience,
    client_id: input.clientId,
    jti: randomUUID(),
    iat: deps.now,
    exp: deps.now + input.ttlSeconds,
    ...(input.scopes.length > 0 ? { scope: input.scopes.join(' ') } : {}),
    ...(input.resources.length === 1 ? { resource: input.resources[0] } : input.resources.length > 1 ? { resource: [...input.resources] } : {}),
    ...(input.email !== undefined ? { email: input.email } : {}),
    ...(input.authTime !== undefined ? { auth_time: input.authTime } : {}),
    ...(input.act !== undefined ? { act: input.act } : {}),
    ...(input.dpopJkt !== undefined ? { cnf: { jkt: input.dpopJkt } } : {}),
  };
}

/** An ID-JAG for the resource authorization server `input.audience`. */
export async function mintIdJag(input: AuthorizationGrantInput, deps: { keys: KeyRing; issuer: string; now: number }): Promise<MintedAuthorizationGrant> {
  const claims = claimsOf(input, deps);
  return { token: await encodeJwt(deps.keys.active, ID_JAG_TYP, claims), claims, expiresIn: input.ttlSeconds };
}

/** An identity chaining JWT authorization grant for the peer authorization server `input.audience`. */
export async function mintChainingGrant(input: AuthorizationGrantInput, deps: { keys: KeyRing; issuer: string; now: number }): Promise<MintedAuthorizationGrant> {
  const claims = claimsOf(input, deps);
  return { token: await encodeJwt(deps.keys.active, 'JWT', claims), claims, expiresIn: input.ttlSeconds };
}
