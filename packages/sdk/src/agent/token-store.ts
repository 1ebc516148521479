/**
 * Where an agent keeps the tokens a user delegated to it: the access token, the refresh token that renews it, and
 * what they are for. One entry per (issuer, application, agent, user, resources), see {@link tokenSetKey}.
 */

import type { StoredDpopKey } from '../dpop/prover.ts';

/** The tokens of one on-behalf-of authorization, as stored (plain JSON: every member survives a round trip). */
export interface DelegatedTokenSet {
  /** Its key in the token store ({@link tokenSetKey}). */
  key: string;
  /** The authorization server that issued it. */
  issuer: string;
  /** The OAuth application (`app_…`) that holds the grant and redeems and refreshes it. */
  clientId: string;
  /** The agent the user authorized (`requested_actor`), the `act.sub` of the access token. */
  actor?: string;
  /** The user: the verified ID token's `sub`, else the access token's `sub` as the token endpoint returned it. */
  subject?: string;
  accessToken: string;
  tokenType: string;
  /** Seconds since the epoch, when the server said (`expires_in`). */
  expiresAt?: number;
  /** Present when `offline_access` was granted; rotated on every refresh (RFC 9700 §4.14.2). */
  refreshToken?: string;
  /** The scopes granted. */
  scope: string[];
  /** The resources (RFC 8707) the access token is for. */
  resource: string[];
  /** The last ID token (OpenID Connect Core §2), verified when it was received. */
  idToken?: string;
  /** Its claims (`sub`, `email`, `name`, `auth_time`, …). */
  idTokenClaims?: Record<string, unknown>;
  /** Seconds since the epoch when this set was obtained or last refreshed. */
  updatedAt: number;
  /**
   * The DPoP key the tokens are bound to (`tokenType` `DPoP`; a public client's refresh token too, RFC 9449 §5),
   * kept with them so that an agent started again can present them (`DpopProver.fromStoredKey`) and refresh. As
   * secret as the refresh token.
   */
  dpopKey?: StoredDpopKey;
}

/**
 * Persistence for {@link DelegatedTokenSet}s. Implementations must keep values as given (they hold refresh tokens:
 * keep them where only this agent can read them) and may be asynchronous. {@link MemoryTokenStore} and
 * `FileTokenStore` are provided; a database or an OS keychain fit the same three methods.
 */
export interface TokenStore {
  get(key: string): Promise<DelegatedTokenSet | undefined>;
  set(key: string, value: DelegatedTokenSet): Promise<void>;
  delete(key: string): Promise<void>;
}

/** What identifies one stored token set. */
export interface TokenSetKeyParts {
  issuer: string;
  /** The application's client id. */
  clientId: string;
  /** The agent (`requested_actor`), if one was named. */
  actor?: string | undefined;
  /** The user's `sub`. */
  subject?: string | undefined;
  /** The resources the tokens are for; order does not matter. */
  resource?: readonly string[] | undefined;
}

/**
 * The store key of a token set: a JSON array of issuer, application, agent, user and the sorted resources, so that
 * no two different tuples share a key (credentials are kept per issuer, MCP-C-08).
 *
 * @example
 * tokenSetKey({ issuer: 'https://as.example.com', clientId: 'app_1', actor: 'agt_1', subject: 'usr_1', resource: ['https://mcp.example.com/mcp'] });
 */
export function tokenSetKey(parts: TokenSetKeyParts): string {
  const resources = [...new Set(parts.resource ?? [])].sort();
  return JSON.stringify(['mandate/delegated/1', parts.issuer, parts.clientId, parts.actor ?? null, parts.subject ?? null, resources]);
}

/** A {@link TokenStore} in memory: tokens live as long as the process. Values are copied in and out. */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, DelegatedTokenSet>();

  async get(key: string): Promise<DelegatedTokenSet | undefined> {
    const value = this.#entries.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  async set(key: string, value: DelegatedTokenSet): Promise<void> {
    this.#entries.set(key, structuredClone(value));
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}

/** True when `value` has the shape of a {@link DelegatedTokenSet} (for values read back from a file). */
export function isDelegatedTokenSet(value: unknown): value is DelegatedTokenSet {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const optionalString = (name: string) => v[name] === undefined || typeof v[name] === 'string';
  const strings = (name: string) => Array.isArray(v[name]) && (v[name] as unknown[]).every((s) => typeof s === 'string');
  return (
    typeof v['key'] === 'string' &&
    typeof v['issuer'] === 'string' &&
    typeof v['clientId'] === 'string' &&
    typeof v['accessToken'] === 'string' &&
    typeof v['tokenType'] === 'string' &&
    typeof v['updatedAt'] === 'number' &&
    (v['expiresAt'] === undefined || typeof v['expiresAt'] === 'number') &&
    ['actor', 'subject', 'refreshToken', 'idToken'].every(optionalString) &&
    strings('scope') &&
    strings('resource') &&
    (v['dpopKey'] === undefined || isStoredDpopKey(v['dpopKey']))
  );
}

function isStoredDpopKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['alg'] === 'string' && typeof v['privateJwk'] === 'object' && v['privateJwk'] !== null && !Array.isArray(v['privateJwk']);
}
