import { type ActClaim, RESOURCE_SERVER_PROFILE } from '@mandate/protocol';
import type { ResourceRecord } from '../store/store.ts';

/**
 * The resource servers in a token's chain (issue 11 items 1 and 2), pure: a token a resource server obtained by
 * downstream exchange (its `act` names the server, `sub_profile` `resource_server`), or a token derived from one,
 * is only as alive as that server's standing now:
 *
 * | link | the token is dead when |
 * |---|---|
 * | the resource server | no longer registered |
 * | the key it exchanged with | replaced since the token was issued (`iat` before `apiKeySince`) and not in its grace period, or older than the previous key |
 * | the hop it made | the next resource server in the chain is no longer among its `downstream_resources` |
 * | the outermost resource server's hop | none of the token's resources is among its `downstream_resources` (checked with the allowance) |
 *
 * A token issued with the key a graceful rotation replaced lives until the grace period ends (`notAfter`): a
 * token exchanged from it never outlives that (both exchanges cap their lifetime there).
 */

export type ResourceServerChain = { ok: true; notAfter: number | undefined; outermost: ResourceRecord | null } | { ok: false; reason: string };

/** The resource servers in a token's `act` chain (downstream exchange), outermost first. */
export function resourceServersOf(act: ActClaim | undefined): string[] {
  const uris: string[] = [];
  for (let actor = act; actor; actor = actor.act) if (actor.sub_profile === RESOURCE_SERVER_PROFILE) uris.push(actor.sub);
  return uris;
}

/** Whether a token issued at `iat` through this resource server was issued with a key still honoured, and until when. */
function keyStanding(record: ResourceRecord, iat: number, now: number): { ok: true; until: number | undefined } | { ok: false } {
  if (iat >= record.apiKeySince) return { ok: true, until: undefined };
  const grace = record.previousApiKeyExpiresAt;
  if (record.previousApiKeySince !== null && iat >= record.previousApiKeySince && grace !== null && now < grace) return { ok: true, until: grace };
  return { ok: false };
}

export function decideResourceServerChain(claims: { iat: number; act?: ActClaim | undefined }, servers: ReadonlyMap<string, ResourceRecord | null>, now: number): ResourceServerChain {
  let notAfter: number | undefined;
  let outer: ActClaim | undefined;
  for (let node = claims.act; node; outer = node, node = node.act) {
    if (node.sub_profile !== RESOURCE_SERVER_PROFILE) continue;
    const record = servers.get(node.sub);
    // A resource server deleted since ends what it obtained for downstream calls.
    if (!record) return { ok: false, reason: `resource server ${node.sub} no longer exists` };
    const key = keyStanding(record, claims.iat, now);
    if (!key.ok) return { ok: false, reason: `resource server ${node.sub}'s key was replaced since` };
    if (key.until !== undefined) notAfter = Math.min(notAfter ?? Infinity, key.until);
    // The hop this server made to the next one in the chain is still one it may make.
    if (outer?.sub_profile === RESOURCE_SERVER_PROFILE && !record.downstreamResources.includes(outer.sub)) {
      return { ok: false, reason: `resource server ${node.sub} may no longer call ${outer.sub}` };
    }
  }
  const outermost = claims.act?.sub_profile === RESOURCE_SERVER_PROFILE ? (servers.get(claims.act.sub) ?? null) : null;
  return { ok: true, notAfter, outermost };
}
