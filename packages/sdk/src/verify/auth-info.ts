import type { AccessTokenClaims, ActClaim } from '@mandate/protocol';

/** An actor of the delegation chain, flattened (camelCase; the wire names stay in `claims`). */
export interface Actor {
  subject: string;
  clientId?: string;
  /** `sub_profile`, e.g. `ai_agent`. */
  subjectProfile?: string;
  issuer?: string;
}

/**
 * What a verified access token says, for the code that serves the request. Its first members match the MCP SDK's
 * `AuthInfo` (`token`, `clientId`, `scopes`, `expiresAt`, `resource`), so the object can be put on `req.auth` and
 * reaches MCP tool handlers as `extra.authInfo` unchanged.
 */
export interface AuthInfo {
  /** The access token itself. Never forward it upstream (MCP-RS-04: no token passthrough). */
  token: string;
  clientId: string;
  scopes: string[];
  /** `exp`, in seconds since the epoch. */
  expiresAt: number;
  /** The audience value that matched this resource, as a URL when it is one (RFC 8707). */
  resource?: URL;
  extra?: Record<string, unknown>;
  /** `sub`: the user for a delegated token, the agent itself for an agent acting on its own behalf. */
  subject: string;
  /** `sub_profile` of the subject, e.g. `ai_agent`. */
  subjectProfile?: string;
  issuer: string;
  /** `aud`, always as an array. */
  audience: string[];
  /** `jti`. */
  tokenId: string;
  /** The `act` chain flattened, outermost (current) actor first. Empty when nobody acts for the subject. */
  actors: Actor[];
  /**
   * The agent's id when an AI agent is involved: the subject when `sub_profile` is `ai_agent`, otherwise the
   * outermost actor whose `sub_profile` is `ai_agent`.
   */
  agentId?: string;
  /** `cnf` (RFC 7800): `jkt` is the thumbprint of the DPoP key whose proof came with this request (RFC 9449 §6). */
  confirmation?: { jkt?: string; [member: string]: unknown };
  /** The verified claims as they were on the wire. */
  claims: AccessTokenClaims;
}

const agentProfile = 'ai_agent';

/** Flattens an `act` claim (RFC 8693 §4.1), outermost actor first. */
function actorChain(act: ActClaim | undefined): Actor[] {
  const actors: Actor[] = [];
  for (let node = act; node !== undefined; node = node.act) {
    const actor: Actor = { subject: node.sub };
    if (node.client_id !== undefined) actor.clientId = node.client_id;
    if (node.sub_profile !== undefined) actor.subjectProfile = node.sub_profile;
    if (node.iss !== undefined) actor.issuer = node.iss;
    actors.push(actor);
  }
  return actors;
}

/** Builds the {@link AuthInfo} of a token whose claims were verified (RFC 9068 §2.2, RFC 8693 §4.1 `act`). */
export function buildAuthInfo(token: string, claims: AccessTokenClaims, scopes: string[], matchedAudience: string): AuthInfo {
  const actors = claims.act === undefined ? [] : actorChain(claims.act);
  const info: AuthInfo = {
    token,
    clientId: claims.client_id,
    scopes,
    expiresAt: claims.exp,
    subject: claims.sub,
    issuer: claims.iss,
    audience: typeof claims.aud === 'string' ? [claims.aud] : claims.aud,
    tokenId: claims.jti,
    actors,
    claims,
  };
  if (URL.canParse(matchedAudience)) info.resource = new URL(matchedAudience);
  if (claims.sub_profile !== undefined) info.subjectProfile = claims.sub_profile;
  if (claims.cnf !== undefined) info.confirmation = claims.cnf;
  const agentId =
    claims.sub_profile === agentProfile ? claims.sub : actors.find((a) => a.subjectProfile === agentProfile)?.subject;
  if (agentId !== undefined) info.agentId = agentId;
  return info;
}
