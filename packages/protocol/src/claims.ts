import type { AuthorizationDetail } from './authorization-details.ts';

/**
 * The JWT claims Mandate issues and reads back, named as they are on the wire. One definition for the server (which
 * mints them) and the SDK (which verifies them), so the two cannot drift. Each type is open (`[claim: string]:
 * unknown`): RFC 7519 §4 lets a token carry claims a recipient does not understand, and it must ignore them.
 */

/** Who an actor is (RFC 8693 §4.1): the members Mandate sets on an actor and on `may_act`. */
export interface ActorIdentity {
  sub: string;
  client_id?: string;
  /**
   * `ai_agent` when the actor is an agent (draft-mcguinness-oauth-actor-profile, as Auth0 emits it);
   * `resource_server` when it is a resource server (an MCP server or gateway) calling on downstream.
   */
  sub_profile?: string;
  iss?: string;
  [claim: string]: unknown;
}

/** The `sub_profile` of an actor that is a resource server: its `sub` and `client_id` are its resource URI. */
export const RESOURCE_SERVER_PROFILE = 'resource_server';

/** One node of an RFC 8693 §4.1 `act` chain: the current actor outermost, each earlier actor nested inside. */
export interface ActClaim extends ActorIdentity {
  act?: ActClaim;
}

/** RFC 8693 §4.4 `may_act`: the party allowed to become the actor for this subject (Mandate sets it on hand-offs). */
export type MayActClaim = ActorIdentity;

/** RFC 7800 §3.1 confirmation; Mandate uses the RFC 9449 §6.1 JWK thumbprint of a DPoP key. */
export interface CnfClaim {
  jkt?: string;
  [member: string]: unknown;
}

/** The RFC 7519 §4.1 registered claims, as both kinds of token Mandate issues carry them. */
export interface RegisteredClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** The claims of a Mandate access token: RFC 9068 §2.2, plus RFC 8693 `act`/`may_act`, RFC 7800 `cnf`, and `gid`. */
export interface AccessTokenClaims extends RegisteredClaims {
  jti: string;
  client_id: string;
  scope?: string;
  /** `ai_agent` when the subject itself is an agent acting for itself. */
  sub_profile?: string;
  act?: ActClaim;
  may_act?: MayActClaim;
  cnf?: CnfClaim;
  auth_time?: number;
  acr?: string;
  /**
   * Mandate extension: the user grant this token derives from (authorization code, refresh, or a token exchange of
   * such a token). Introspection treats the token as inactive once that grant is revoked (code replay, refresh-token
   * reuse, consent revoked, user disabled), so revocation reaches every token derived from a user's decision.
   */
  gid?: string;
  /** RFC 9396 §9.1: what was approved in detail (for `mcp_tool`, one tool call: the token is good for it once). */
  authorization_details?: AuthorizationDetail[];
}

/** OpenID Connect Core §2 ID token claims, with the §5.1 standard claims Mandate releases by scope. */
export interface IdTokenClaims extends RegisteredClaims {
  auth_time?: number;
  /** RFC 8176 authentication methods: `pwd`, `hwk` + `user` (a passkey with user verification), `fed` (upstream). */
  amr?: string[];
  nonce?: string;
  azp?: string;
  acr?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** The user grant it was issued under (see {@link AccessTokenClaims.gid}); lets token exchange find its scopes. */
  gid?: string;
}

/** RFC 9068 §2.1: the `typ` header of a JWT access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** The `typ` header Mandate puts on ID tokens (RFC 7519 §5.1), so that an ID token never passes as an access token. */
export const ID_TOKEN_TYP = 'JWT';
