import { type AccessTokenClaims, type ActClaim, RESOURCE_SERVER_PROFILE } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { isOidcScope } from '../policy/oidc-scopes.ts';
import { listsResource, listsResourceOrIsOpenApp } from '../policy/token-targets.ts';
import type { ClientRecord, ClientRecords, ResourceRecord, ResourceRecords, RevocationRecords, UserGrantRecord, UserGrantRecords, UserRecord, UserRecords } from '../store/store.ts';
import { type OwnIdTokenClaims, type OwnTokenDeps, verifyOwnAccessToken, verifyOwnIdToken } from '../tokens/own-token.ts';
import { decideResourceServerChain, resourceServersOf } from './resource-server-chain.ts';

/**
 * The one place that decides whether a token (or the grant behind it) is still alive, and what it may still carry.
 * Every use of a token we issued asks here (introspection, userinfo, token exchange subject and actor tokens, the
 * actor token of a code redemption), and so does every refresh and code redemption for its grant:
 *
 * | link of the chain | the token or grant is dead when | re-enabling revives it? |
 * |---|---|---|
 * | the token itself | its `jti` was revoked | — |
 * | each resource server in its `act` (`sub_profile` `resource_server`: a downstream exchange) | no longer registered, its key replaced since (past the grace period), or the hop it made no longer in its `downstream_resources` (resource-server-chain.ts) | — |
 * | each client or agent it speaks for (`client_id`, an agent `sub`, every `act`) | missing, disabled, or disabled after the token's `iat` (`tokens_valid_after`) | never |
 * | the user grant (`gid`) | missing, revoked (code replay, refresh reuse, consent or refresh token revoked), expired | never |
 * | the grant's user, client and agent | missing, disabled, or disabled (or the password reset) after the grant was made | never |
 * | the current allowance | none of its resource scopes, or none of its resources, is still allowed | narrowing is undone by widening again |
 *
 * A disable sets the party's `tokens_valid_after` past now and revokes its grants (management/); the comparison
 * with `iat` and with the grant's `created_at` here is what makes that hold at every use even for writes that only
 * changed the status (another process, an older CLI) and for a grant made in the same instant as the disable.
 *
 * The current allowance narrows rather than kills: a token keeps the scopes and resources its parties may still
 * hold (introspection reports those; an exchange starts from those; a refresh issues those), and is dead only when
 * nothing of what it carried is left. Scopes: every resource scope (OpenID scopes are the server's own) must be in
 * the allowed scopes of every client and agent the token speaks for, and, for a token of a user grant, among the
 * grant's current scopes. Resources (`aud`, other than the userinfo endpoint, this issuer (an actor token) and a
 * hand-off's agent):
 * - a client's own token (`sub` = `client_id`): listed by the client (`client_credentials`);
 * - a token of a user grant (code, refresh, and exchanges of them): among the grant's current resources, i.e. what
 *   the user granted and the grant's application and agent may still use (SR-03: no agent's list widens that);
 * - a token made by exchange without a grant: usable by the actor (an application without a list may use any), or
 *   listed by an agent further down the chain.
 *
 * Revocation of a token reaches its descendants through the lineage (store `revokeTokenId`), so the one `jti`
 * read here covers them too.
 *
 * Cost: one read per party (SQLite answers them from its read cache), all of a phase at once: the revocation, the
 * parties and the grant together, then the grant's user and any grant party not read yet.
 */

export interface TokenLifecycleDeps {
  revocations: Pick<RevocationRecords, 'isTokenIdRevoked'>;
  clients: Pick<ClientRecords, 'getClient'>;
  grants: Pick<UserGrantRecords, 'getGrant'>;
  users: Pick<UserRecords, 'getUser'>;
  /** The userinfo endpoint: the audience of a user token that targets no resource (never narrowed away). */
  userinfoUrl: string;
  /** This issuer: the audience of an agent's actor token (SR-04), no resource either. */
  issuer: string;
  /** The resource servers in a token's chain (downstream exchange): each must still be registered. */
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
}

export type Dead = { alive: false; reason: string };
/** A live grant: its parties as read now, and what it may still give. */
export type GrantLife =
  | { alive: true; grant: UserGrantRecord; user: UserRecord; client: ClientRecord; agent: ClientRecord | null; scopes: string[]; resources: string[] }
  | Dead;
/** A live access token and what it may still carry: its scopes and `aud` values, less what its parties lost. */
export type AccessTokenLife = {
  alive: true;
  scopes: string[];
  audiences: string[];
  grant: GrantLife | null;
  /** When it dies although unexpired: the grace period of a replaced resource-server key in its chain ends. */
  notAfter?: number | undefined;
} | Dead;

const dead = (reason: string): Dead => ({ alive: false, reason });

/** The clients and agents a token speaks for: its client, an agent subject, and every agent or client in its `act` chain. */
export function principalsOf(claims: Pick<AccessTokenClaims, 'client_id' | 'sub' | 'sub_profile' | 'act'>): string[] {
  const ids = new Set<string>([claims.client_id]);
  if (claims.sub_profile === 'ai_agent') ids.add(claims.sub);
  for (let actor: ActClaim | undefined = claims.act; actor; actor = actor.act) {
    if (actor.sub_profile === RESOURCE_SERVER_PROFILE) continue;
    if (actor.sub_profile === 'ai_agent') ids.add(actor.sub);
    if (actor.client_id) ids.add(actor.client_id);
  }
  return [...ids];
}

/** Why a party (of a token issued at `since`, or of a grant made then) no longer stands, or null. */
export function partyProblem(record: ClientRecord | UserRecord | null | undefined, since: number, what: string): string | null {
  if (!record) return `${what} no longer exists`;
  if (record.status !== 'active') return `${what} is disabled`;
  if (since < record.tokensValidAfter) return `${what} was disabled (or reset) after it was issued`;
  return null;
}

/**
 * Whether an out-of-band decision (a CIBA approval, a device code confirmed on /device) may still become a grant:
 * the user must not have been disabled or reset since they (or an approver for them) decided, nor the client since
 * it asked. A disable and re-enable in between would otherwise revive the approval: the grant is made at
 * redemption, after the cutoff (the same rule `decideGrantLife` applies to a grant).
 */
export function decisionProblem(parties: { user: UserRecord | null; client: ClientRecord }, times: { requestedAt: number; decidedAt: number | null }): string | null {
  return partyProblem(parties.user, times.decidedAt ?? times.requestedAt, 'the user') ?? partyProblem(parties.client, times.requestedAt, 'the client');
}

/** May the client or agent hold this resource scope now? OpenID scopes are the server's own and always may. */
const holdsScope = (party: ClientRecord, scope: string): boolean => isOidcScope(scope) || party.allowedScopes.includes(scope);

/**
 * Whether a user grant still stands over its parties as read now, and what it may still give: the granted scopes
 * its application and agent may still hold, the granted resources they may still use. Pure.
 */
export function decideGrantLife(grant: UserGrantRecord, parties: { user: UserRecord | null; client: ClientRecord | null; agent: ClientRecord | null }, now: number): GrantLife {
  if (grant.status !== 'active') return dead('the grant was revoked');
  if (grant.expiresAt <= now) return dead('the grant has expired');
  const problem =
    partyProblem(parties.user, grant.createdAt, 'the user') ??
    partyProblem(parties.client, grant.createdAt, 'the client') ??
    (grant.actorId === null ? null : partyProblem(parties.agent, grant.createdAt, 'the agent'));
  if (problem) return dead(problem);
  const client = parties.client!;
  const agent = grant.actorId === null ? null : parties.agent!;
  const scopes = grant.scopes.filter((s) => holdsScope(client, s) && (!agent || holdsScope(agent, s)));
  const resources = grant.resources.filter((uri) => listsResourceOrIsOpenApp(client, uri) && (!agent || listsResource(agent, uri)));
  if (grant.scopes.some((s) => !isOidcScope(s)) && !scopes.some((s) => !isOidcScope(s))) return dead('its client and agent may hold none of the granted scopes now');
  if (grant.resources.length > 0 && resources.length === 0) return dead('its client and agent may use none of the granted resources now');
  return { alive: true, grant, user: parties.user!, client, agent, scopes, resources };
}

type ClientsById = Map<string, ClientRecord | null>;

async function readClients(ids: readonly string[], deps: Pick<TokenLifecycleDeps, 'clients'>, known: ClientsById): Promise<void> {
  const missing = ids.filter((id) => !known.has(id));
  const records = await Promise.all(missing.map((id) => deps.clients.getClient(id)));
  missing.forEach((id, i) => known.set(id, records[i]!));
}

/**
 * Reads a grant's user, client and agent (those `known` lacks) and decides whether the grant still stands. For
 * refresh and code redemption, which then issue only what it may still give.
 */
export async function grantLife(grant: UserGrantRecord, deps: Pick<TokenLifecycleDeps, 'clients' | 'users'>, now: number, known: ClientsById = new Map()): Promise<GrantLife> {
  const [user] = await Promise.all([deps.users.getUser(grant.userId), readClients(grant.actorId ? [grant.clientId, grant.actorId] : [grant.clientId], deps, known)]);
  return decideGrantLife(grant, { user, client: known.get(grant.clientId) ?? null, agent: grant.actorId ? (known.get(grant.actorId) ?? null) : null }, now);
}

/** The token is the user grant's own (code or refresh): its client and, for on-behalf-of, exactly its agent. */
function isUserGrantToken(claims: AccessTokenClaims, grant: UserGrantRecord): boolean {
  if (claims.client_id !== grant.clientId) return false;
  if (claims.act === undefined) return grant.actorId === null;
  return claims.act.sub === grant.actorId && claims.act.act === undefined;
}

/**
 * What of a live token's scopes and resources its parties (read into `clients`) may still hold. Pure. `via`: the
 * resource server that obtained the token (its outermost actor), whose `downstream_resources` must still list them.
 */
export function decideAccessTokenAllowance(
  claims: AccessTokenClaims,
  clients: ClientsById,
  grant: GrantLife | null,
  own: Pick<TokenLifecycleDeps, 'userinfoUrl' | 'issuer'>,
  via: ResourceRecord | null = null,
): AccessTokenLife {
  const principals = principalsOf(claims).map((id) => clients.get(id)!);
  const client = clients.get(claims.client_id)!;
  const grantNow = grant?.alive ? grant : null;

  const tokenScopes = (claims.scope ?? '').split(' ').filter(Boolean);
  const scopes = tokenScopes.filter((s) => principals.every((p) => holdsScope(p, s)) && (!grantNow || isOidcScope(s) || grantNow.scopes.includes(s)));
  if (tokenScopes.some((s) => !isOidcScope(s)) && !scopes.some((s) => !isOidcScope(s))) return dead('its parties may hold none of its scopes now');

  const handOffAgent = claims.may_act?.sub;
  const isResource = (aud: string) => aud !== own.userinfoUrl && aud !== own.issuer && aud !== handOffAgent;
  let mayUse: (uri: string) => boolean;
  if (claims.gid === undefined && claims.act === undefined && claims.sub === claims.client_id) {
    mayUse = (uri) => listsResource(client, uri);
  } else if (grantNow && isUserGrantToken(claims, grantNow.grant)) {
    mayUse = (uri) => grantNow.resources.includes(uri);
  } else {
    const others = principals.filter((p) => p !== client);
    const actorsMayUse = (uri: string) => listsResourceOrIsOpenApp(client, uri) || others.some((p) => listsResource(p, uri));
    // SR-03: a token derived from a user grant never reaches beyond what the user consented to (and the grant may
    // still give), whoever in its chain could use the resource; otherwise its actors' lists decide.
    mayUse = grantNow ? (uri) => grantNow.resources.includes(uri) : actorsMayUse;
  }
  const tokenAudiences = [claims.aud].flat();
  const audiences = tokenAudiences.filter((aud) => !isResource(aud) || mayUse(aud));
  if (tokenAudiences.some(isResource) && !audiences.some(isResource)) return dead('its parties may use none of its resources now');
  if (via) {
    // Issue 11 item 2: a gateway's token for a downstream lives only while the gateway may still call it.
    const reachable = audiences.filter((aud) => !isResource(aud) || via.downstreamResources.includes(aud));
    if (!reachable.some(isResource)) return dead(`resource server ${via.uri} may no longer call ${audiences.filter(isResource).join(' ')}`);
    return { alive: true, scopes, audiences: reachable, grant };
  }
  return { alive: true, scopes, audiences, grant };
}

/**
 * Whether a signature-valid, unexpired access token is still alive (see the table above), and what it may still
 * carry. `now` only matters for the grant's end.
 */
export async function accessTokenLife(claims: AccessTokenClaims, deps: TokenLifecycleDeps, now: number): Promise<AccessTokenLife> {
  const ids = principalsOf(claims);
  const clients: ClientsById = new Map();
  const servers = resourceServersOf(claims.act);
  const [revoked, grant, , serverRecords] = await Promise.all([
    deps.revocations.isTokenIdRevoked(claims.jti),
    claims.gid === undefined ? null : deps.grants.getGrant(claims.gid),
    readClients(ids, deps, clients),
    Promise.all(servers.map((uri) => deps.resources.getResourceByUri(uri))),
  ]);
  if (revoked) return dead('the token was revoked');
  const chain = decideResourceServerChain(claims, new Map(servers.map((uri, i) => [uri, serverRecords[i]!])), now);
  if (!chain.ok) return dead(chain.reason);
  for (const id of ids) {
    const problem = partyProblem(clients.get(id), claims.iat, `client ${id}`);
    if (problem) return dead(problem);
  }
  let life: GrantLife | null = null;
  if (claims.gid !== undefined) {
    if (!grant) return dead('its grant no longer exists');
    life = await grantLife(grant, deps, now, clients);
    if (!life.alive) return life;
  }
  const allowance = decideAccessTokenAllowance(claims, clients, life, deps, chain.outermost);
  return allowance.alive && chain.notAfter !== undefined ? { ...allowance, notAfter: chain.notAfter } : allowance;
}

export interface LiveTokenDeps {
  keys: KeyRing;
  issuer: string;
  now: number;
  lifecycle: TokenLifecycleDeps;
  /** Access tokens whose signature was verified before (own-token.ts); their life is read anew every time. */
  verified?: OwnTokenDeps['verified'];
}

/**
 * An access token presented back to us (userinfo, a token exchange's subject or actor token, a code redemption's
 * actor token): ours, unexpired, and alive. The failure says which for the audit trail; clients only learn that
 * the token was not accepted.
 */
export async function verifyLiveAccessToken(
  token: string,
  deps: LiveTokenDeps,
): Promise<{ ok: true; claims: AccessTokenClaims; life: Extract<AccessTokenLife, { alive: true }> } | { ok: false; reason: 'expired' | 'invalid' | 'inactive' }> {
  const result = await verifyOwnAccessToken(token, deps);
  if (!result.ok) return result;
  const life = await accessTokenLife(result.claims, deps.lifecycle, deps.now);
  return life.alive ? { ok: true, claims: result.claims, life } : { ok: false, reason: 'inactive' };
}

/** An ID token presented back to us (a token exchange's subject token): ours, not revoked, its client and grant alive. */
export async function verifyLiveIdToken(
  token: string,
  deps: LiveTokenDeps,
): Promise<{ ok: true; claims: OwnIdTokenClaims; grant: GrantLife | null } | { ok: false; reason: 'expired' | 'invalid' | 'inactive' }> {
  const result = await verifyOwnIdToken(token, deps);
  if (!result.ok) return result;
  const { claims } = result;
  const clients: ClientsById = new Map();
  const [revoked, grant] = await Promise.all([
    deps.lifecycle.revocations.isTokenIdRevoked(claims.jti),
    claims.gid === undefined ? null : deps.lifecycle.grants.getGrant(claims.gid),
    readClients([claims.aud], deps.lifecycle, clients),
  ]);
  if (revoked) return { ok: false, reason: 'inactive' };
  if (partyProblem(clients.get(claims.aud), claims.iat, 'the client')) return { ok: false, reason: 'inactive' };
  if (claims.gid === undefined) return { ok: true, claims, grant: null };
  if (!grant) return { ok: false, reason: 'inactive' };
  const life = await grantLife(grant, deps.lifecycle, deps.now, clients);
  return life.alive ? { ok: true, claims, grant: life } : { ok: false, reason: 'inactive' };
}
