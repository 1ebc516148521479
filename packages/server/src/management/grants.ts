import type { AuditRecords, ClientRecords, RevocationRecords, UserGrantRecords, UserRecords } from '../store/store.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/**
 * Active grants and live access tokens, as the console lists them, and their revocation (issue 12 item 6). A grant
 * is what a user's authorization (or CIBA approval) gave a client and agent: revoking it ends its refresh tokens and
 * every access token carrying its `gid`, including everything exchanged from them, at their next use. Access tokens
 * are self-contained JWTs, so the list of live ones is read from their `token.issued` audit rows; revoking one
 * revokes its whole lineage (every token exchanged from it, however deep).
 */

export type GrantStore = Pick<UserGrantRecords, 'listActiveGrants' | 'getGrant' | 'revokeGrant'> &
  Pick<UserRecords, 'getUser'> &
  Pick<ClientRecords, 'getClient'> &
  Pick<RevocationRecords, 'revokeTokenId' | 'isTokenIdRevoked'> &
  Pick<AuditRecords, 'listAuditRows'>;

export interface GrantView {
  id: string;
  user_id: string;
  user_email: string | null;
  client_id: string;
  client_name: string;
  actor_id: string | null;
  actor_name: string | null;
  scopes: string[];
  resources: string[];
  created_at: number;
  expires_at: number;
}

export interface TokenView {
  jti: string;
  grant_type: string;
  subject: string | null;
  client_id: string | null;
  audience: string[];
  scope: string;
  issued_at: string;
  expires_at: number;
  revoked: boolean;
  /** The user grant it belongs to, when it has one. */
  grant_id: string | null;
}

const GRANT_LIST_LIMIT = 200;
/** How many `token.issued` rows the token list reads back (newest first). */
const TOKEN_SCAN_LIMIT = 500;

async function names(deps: Pick<ManagementDeps<GrantStore>, 'store'>) {
  const cache = new Map<string, string | null>();
  return async (clientId: string): Promise<string | null> => {
    if (!cache.has(clientId)) cache.set(clientId, (await deps.store.getClient(clientId))?.name ?? null);
    return cache.get(clientId)!;
  };
}

export async function listActiveGrants(deps: Pick<ManagementDeps<GrantStore>, 'store' | 'now'>): Promise<GrantView[]> {
  const nameOf = await names(deps);
  const emails = new Map<string, string | null>();
  const views: GrantView[] = [];
  for (const grant of await deps.store.listActiveGrants(deps.now, GRANT_LIST_LIMIT)) {
    if (!emails.has(grant.userId)) emails.set(grant.userId, (await deps.store.getUser(grant.userId))?.email ?? null);
    views.push({
      id: grant.id,
      user_id: grant.userId,
      user_email: emails.get(grant.userId) ?? null,
      client_id: grant.clientId,
      client_name: (await nameOf(grant.clientId)) ?? grant.clientId,
      actor_id: grant.actorId,
      actor_name: grant.actorId ? await nameOf(grant.actorId) : null,
      scopes: grant.scopes,
      resources: grant.resources,
      created_at: grant.createdAt,
      expires_at: grant.expiresAt,
    });
  }
  return views;
}

/** Revokes a grant as an operator; audited as `grant.revoked` with `by: operator`. */
export async function revokeGrantAsOperator(grantId: string, deps: ManagementDeps<GrantStore>): Promise<void> {
  const grant = await deps.store.getGrant(grantId);
  if (!grant) throw new ManagementError('not-found', `no grant ${grantId}`);
  if (!(await deps.store.revokeGrant(grant.id, deps.now))) throw new ManagementError('conflict', `grant ${grantId} is not active`);
  await deps.audit.record({
    event: 'grant.revoked',
    actor: deps.actor,
    subject: grant.userId,
    clientId: grant.clientId,
    detail: { grant_id: grant.id, actor_id: grant.actorId ?? undefined, by: 'operator' },
  });
}

interface IssuedToken {
  jti: string;
  exp: number;
  row: { event: string; subject: string | null; clientId: string | null; tsMs: number; detail: Record<string, unknown> };
}

function issuedToken(row: IssuedToken['row']): IssuedToken | null {
  const { jti, exp } = row.detail;
  return typeof jti === 'string' && typeof exp === 'number' ? { jti, exp, row } : null;
}

/** Access tokens issued lately and not yet expired, newest first, each with whether it is revoked. */
export async function listLiveTokens(deps: Pick<ManagementDeps<GrantStore>, 'store' | 'now'>): Promise<TokenView[]> {
  const rows = await deps.store.listAuditRows({ event: 'token.issued', limit: TOKEN_SCAN_LIMIT, descending: true });
  const views: TokenView[] = [];
  // A token dies with its grant too (lifecycle/token-lifecycle.ts), so a revoked grant shows its tokens revoked.
  const grantLive = new Map<string, boolean>();
  const grantAlive = async (id: string) => {
    if (!grantLive.has(id)) grantLive.set(id, (await deps.store.getGrant(id))?.status === 'active');
    return grantLive.get(id)!;
  };
  for (const token of rows.map(issuedToken)) {
    if (!token || token.exp <= deps.now) continue;
    const d = token.row.detail;
    views.push({
      jti: token.jti,
      grant_type: typeof d['grant_type'] === 'string' ? d['grant_type'] : '',
      subject: token.row.subject,
      client_id: token.row.clientId,
      audience: Array.isArray(d['aud']) ? d['aud'].map(String) : typeof d['aud'] === 'string' ? [d['aud']] : [],
      scope: typeof d['scope'] === 'string' ? d['scope'] : '',
      issued_at: new Date(token.row.tsMs).toISOString(),
      expires_at: token.exp,
      revoked: (await deps.store.isTokenIdRevoked(token.jti)) || (typeof d['grant_id'] === 'string' && !(await grantAlive(d['grant_id']))),
      grant_id: typeof d['grant_id'] === 'string' ? d['grant_id'] : null,
    });
  }
  return views;
}

/**
 * Revokes an access token and its whole lineage (every token exchanged from it); audited as `token.revoked`. The
 * token must be one this server issued (its `token.issued` row gives its expiry).
 */
export async function revokeTokenAsOperator(jti: string, deps: ManagementDeps<GrantStore>): Promise<{ descendants_revoked: number }> {
  const rows = await deps.store.listAuditRows({ event: 'token.issued', limit: TOKEN_SCAN_LIMIT, descending: true });
  const token = rows.map(issuedToken).find((t) => t?.jti === jti);
  if (!token) throw new ManagementError('not-found', `no recently issued token ${jti}`);
  const aud = token.row.detail['aud'];
  // Its audiences as issued (the revocation event goes to those resources); unknown, it goes to every subscriber.
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : undefined;
  const descendants = await deps.store.revokeTokenId(jti, token.exp, deps.now, audiences);
  await deps.audit.record({
    event: 'token.revoked',
    actor: deps.actor,
    subject: token.row.subject,
    clientId: token.row.clientId,
    detail: { jti, descendants_revoked: descendants, by: 'operator' },
  });
  return { descendants_revoked: descendants };
}
