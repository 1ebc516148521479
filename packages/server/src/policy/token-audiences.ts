import type { ClientRecord, ResourceRecord } from '../store/store.ts';
import type { TargetRefusal } from './token-targets.ts';

/** The `aud` values of tokens: an exchange's `audience` parameters, and a user token's resources (with userinfo). */

/**
 * RFC 8693 §2.1 `audience` values of an exchange: each a registered resource (by its canonical URI) or the id of
 * one active agent, which makes the token a hand-off to that agent; an agent cannot be combined with resources.
 */
export function classifyExchangeAudiences(
  requestedResources: readonly string[],
  audiences: readonly { value: string; canonicalUri: string | null }[],
  facts: { registered: ReadonlyMap<string, ResourceRecord>; agents: ReadonlyMap<string, ClientRecord | null> },
): { ok: true; resources: string[]; handOff: ClientRecord | null } | TargetRefusal {
  const resources = [...requestedResources];
  let handOff: ClientRecord | null = null;
  for (const { value, canonicalUri } of audiences) {
    if (canonicalUri && facts.registered.has(canonicalUri)) {
      if (!resources.includes(canonicalUri)) resources.push(canonicalUri);
      continue;
    }
    const agent = facts.agents.get(value) ?? null;
    if (!agent || agent.kind !== 'agent' || agent.status !== 'active' || handOff) return { ok: false, error: 'invalid_target', description: `audience ${value} is not a registered resource or an active agent` };
    handOff = agent;
  }
  if (handOff && resources.length > 0) return { ok: false, error: 'invalid_target', description: 'an agent audience cannot be combined with resources' };
  return { ok: true, resources: handOff ? [] : resources, handOff };
}

/**
 * The `aud` of a token for a user: its resources, and the userinfo endpoint when it was granted `openid` or targets
 * no resource (OIDC Core §5.3). Naming userinfo beside a resource (as Auth0 does) lets "who is signed in?" work with
 * the token an MCP client holds, while userinfo still accepts only tokens that name it (never one meant for a
 * resource alone, RFC 9700 §4.10); a resource server checks that `aud` contains itself (RFC 9068 §4).
 */
export function userTokenAudience(resources: readonly string[], scopes: readonly string[], userinfoUrl: string): string[] {
  return resources.length === 0 || scopes.includes('openid') ? [...resources, userinfoUrl] : [...resources];
}
