import { type ActClaim, parseCompactJws } from '@mandate/protocol';
import { type ClientAuthDeps, verifyClientAssertion } from '../oauth/client-authentication.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import type { ClientRecord } from '../store/store.ts';
import { type LiveTokenDeps, verifyLiveAccessToken } from './token-lifecycle.ts';

/**
 * SR-04: an `actor_token` (token exchange, on-behalf-of code redemption) proves that an agent acts here, so it must
 * be something the agent obtained to act at this authorization server, never a token meant for a resource (a
 * resource server that saw one of the agent's tokens could otherwise act as the agent). Two forms:
 * - an access token of the agent's own (`sub` = `client_id`, no `act`) whose audience is exactly this issuer, the
 *   one `client_credentials` issues for `resource=<issuer>` (it carries no scope and opens no resource);
 * - a `private_key_jwt` client assertion signed by the agent (RFC 7523 rules, `aud` the issuer or the token
 *   endpoint, single use), sent with `actor_token_type` `…:jwt`.
 * Either way the actor is alive now (lifecycle rules for the token, an active client for the assertion).
 */

export type ActorProof =
  | { ok: true; act: ActClaim; exp: number; record: ClientRecord; form: 'access_token'; jti: string; /** `cnf.jkt` of a DPoP-bound actor token. */ jkt: string | undefined }
  | { ok: true; act: ActClaim; exp: number; record: ClientRecord; form: 'client_assertion' }
  | { ok: false; reason: string };

export interface ActorTokenDeps {
  live: LiveTokenDeps;
  clientAuth: ClientAuthDeps;
}

/** The `act` entry of a client acting (RFC 8693 §4.1): `sub` and `client_id`, `sub_profile` for an agent. */
export const actClaim = (record: ClientRecord): ActClaim => ({ sub: record.clientId, client_id: record.clientId, ...(record.kind === 'agent' ? { sub_profile: 'ai_agent' as const } : {}) });

/** Is `token` a client assertion (signed by a client, `iss` = `sub`) rather than a token we issued? */
function looksLikeAssertion(token: string, issuer: string): boolean {
  const parsed = parseCompactJws(token);
  if (!parsed.ok) return false;
  const claims = parsed.payload;
  return typeof claims['iss'] === 'string' && claims['iss'] !== issuer && claims['iss'] === claims['sub'];
}

export async function verifyActorToken(token: string, deps: ActorTokenDeps): Promise<ActorProof> {
  const { issuer, now } = deps.live;
  if (looksLikeAssertion(token, issuer)) {
    try {
      const { client, exp } = await verifyClientAssertion(token, deps.clientAuth, now);
      return { ok: true, act: actClaim(client), exp, record: client, form: 'client_assertion' };
    } catch (err) {
      if (err instanceof OAuthError) return { ok: false, reason: `the client assertion was refused (${err.detail ?? err.message})` };
      throw err;
    }
  }
  const result = await verifyLiveAccessToken(token, deps.live);
  if (!result.ok) return { ok: false, reason: `it is ${result.reason}` };
  const c = result.claims;
  if (c.sub !== c.client_id || c.act !== undefined) return { ok: false, reason: 'it is not the actor’s own token' };
  if (![c.aud].flat().every((aud) => aud === issuer)) return { ok: false, reason: `its audience is not this authorization server (aud ${JSON.stringify(c.aud)}): a token meant for a resource never proves an actor` };
  const record = await deps.live.lifecycle.clients.getClient(c.sub);
  if (!record) return { ok: false, reason: 'its client no longer exists' };
  return { ok: true, act: actClaim(record), exp: c.exp, record, form: 'access_token', jti: c.jti, jkt: c.cnf?.jkt };
}
