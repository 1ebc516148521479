import { type AccessTokenClaims, type ActClaim, RESOURCE_SERVER_PROFILE } from './claims.ts';

/**
 * A revocation event (issue 11 item 3): what a revocation at the authorization server made invalid, as the server
 * streams it to resource servers (Server-Sent Events, `event: revocation`, `data:` this object as JSON) so that a
 * resource verifying JWTs locally refuses a revoked chain without introspecting each call. Any member may be
 * absent; a token is revoked by the event when any member names it ({@link isRevokedBy}).
 */
export interface RevocationEvent {
  /** Token ids revoked: the token revoked and every token derived from it (its lineage, however deep). */
  jti?: string[];
  /** User grants revoked: every token carrying one of these `gid`s (code replay, refresh reuse, /account, a disable). */
  gid?: string[];
  /**
   * Whole parties cut: every token issued before `iat_before` (seconds) for a user (`sub`), speaking for a client
   * or agent (its `client_id`, an agent `sub`, or any actor in `act`) — a disable, a deletion or a password reset —
   * or whose chain passed through a resource server (`act` names it: a downstream exchange) — its key rotated or
   * the resource deleted.
   */
  cutoff?: RevocationCutoff[];
  /**
   * Seconds since the epoch after which nothing the event names can be alive anyway (the latest `exp` of the tokens
   * it revokes, or of any token a cutoff can reach): a subscriber may forget the event then.
   */
  exp?: number;
  /**
   * The audiences (`aud` values) of every token the event revokes: the server sends it only to these resources.
   * A user's cutoff names the resources of all their grants (every token of a user's carries a grant and targets
   * only its resources). Absent when it cannot say (a client's, agent's or resource server's cutoff, which reaches
   * tokens wherever they went; a token recorded before audiences were): then every subscribed resource receives it. Informational for a subscriber ({@link isRevokedBy}
   * ignores it).
   */
  aud?: string[];
}

export interface RevocationCutoff {
  party: 'user' | 'client' | 'resource';
  id: string;
  iat_before: number;
}

/** The SSE event type of a revocation event. */
export const REVOCATION_EVENT_TYPE = 'revocation';

type ClaimsSeen = Pick<AccessTokenClaims, 'jti' | 'sub' | 'client_id' | 'iat'> & { gid?: string; act?: ActClaim; sub_profile?: string };

/** The clients and agents a token speaks for: its client, an agent subject, every client or agent in `act`. */
function clientsOf(claims: ClaimsSeen): Set<string> {
  const ids = new Set<string>([claims.client_id]);
  if (claims.sub_profile === 'ai_agent') ids.add(claims.sub);
  for (let actor: ActClaim | undefined = claims.act; actor; actor = actor.act) {
    ids.add(actor.sub);
    if (actor.client_id) ids.add(actor.client_id);
  }
  return ids;
}

/** Whether a resource server (its URI) is in the chain: it obtained this token, or an ancestor of it, by exchange. */
function passesThrough(act: ActClaim | undefined, uri: string): boolean {
  for (let actor = act; actor; actor = actor.act) if (actor.sub === uri && actor.sub_profile === RESOURCE_SERVER_PROFILE) return true;
  return false;
}

/** Whether the event makes a token with these claims invalid. Pure. */
export function isRevokedBy(claims: ClaimsSeen, event: RevocationEvent): boolean {
  if (event.jti?.includes(claims.jti)) return true;
  if (claims.gid !== undefined && event.gid?.includes(claims.gid)) return true;
  for (const cut of event.cutoff ?? []) {
    if (claims.iat >= cut.iat_before) continue;
    if (cut.party === 'user' ? claims.sub === cut.id : cut.party === 'resource' ? passesThrough(claims.act, cut.id) : clientsOf(claims).has(cut.id)) return true;
  }
  return false;
}

/** Whether the event is for the resource with this URI: it names tokens meant for it, or it cannot say (no `aud`). */
export function revocationEventConcerns(event: RevocationEvent, resourceUri: string): boolean {
  return event.aud === undefined || event.aud.includes(resourceUri);
}

/** Reads a revocation event from untrusted JSON (an SSE `data:` line or a webhook body); null when it is not one. */
export function parseRevocationEvent(json: string): RevocationEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const strings = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((s) => typeof s === 'string'));
  if (!strings(v['jti']) || !strings(v['gid']) || !strings(v['aud'])) return null;
  const cutoff = v['cutoff'];
  if (cutoff !== undefined) {
    if (!Array.isArray(cutoff)) return null;
    for (const c of cutoff as Record<string, unknown>[]) {
      if (typeof c !== 'object' || c === null || (c['party'] !== 'user' && c['party'] !== 'client' && c['party'] !== 'resource') || typeof c['id'] !== 'string' || typeof c['iat_before'] !== 'number') return null;
    }
  }
  const event: RevocationEvent = {};
  if (v['jti'] !== undefined) event.jti = v['jti'] as string[];
  if (v['gid'] !== undefined) event.gid = v['gid'] as string[];
  if (cutoff !== undefined) event.cutoff = (cutoff as RevocationCutoff[]).map((c) => ({ party: c.party, id: c.id, iat_before: c.iat_before }));
  if (typeof v['exp'] === 'number' && Number.isFinite(v['exp'])) event.exp = v['exp'];
  if (v['aud'] !== undefined) event.aud = v['aud'] as string[];
  return event;
}

/** Revocation webhooks are signed as every Mandate webhook is (webhook-signature.ts); the names they had first. */
export { WEBHOOK_SIGNATURE_HEADER as REVOCATION_WEBHOOK_SIGNATURE_HEADER, signWebhook as signRevocationWebhook, webhookSignatureProblem as revocationWebhookSignatureProblem } from './webhook-signature.ts';
