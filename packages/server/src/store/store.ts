/**
 * The storage contract. `sqlite/` and `postgres/` implement it; nothing outside `store/` imports either.
 *
 * The store speaks in records, hashes, expiry times and atomic operations. It never sees a raw secret or token
 * (callers hash first, see `tokens/secret.ts`), and it never checks OAuth rules: scopes, redirect URIs and PKCE
 * belong to grants and policy. Times are epoch seconds unless a name says otherwise (`tsMs`).
 *
 * Every method is async so both backends share one shape; the SQLite one completes synchronously underneath.
 */

export type ClientKind = 'agent' | 'app';
export type ClientStatus = 'active' | 'disabled';
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** An OAuth client. Agents are clients of kind `agent`: their `clientId` is the agent id and the `sub` of their own tokens. */
export interface ClientRecord {
  clientId: string;
  kind: ClientKind;
  name: string;
  description: string | null;
  /** Email of the person who owns the agent or app. */
  owner: string | null;
  status: ClientStatus;
  allowedScopes: string[];
  /** Canonical resource URIs the client may get tokens for (RFC 8707). */
  allowedAudiences: string[];
  /** Overrides the server default; never above `tokens.maxAccessTokenTtlSeconds`. */
  accessTokenTtlSeconds: number | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Hex SHA-256 of the current client secret; null for `private_key_jwt` and public clients. */
  secretHash: string | null;
  /** Hex SHA-256 of the secret before the last rotation, valid until `previousSecretExpiresAt`. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
  /** Public keys for `private_key_jwt` (a JWK Set). */
  jwks: { keys: Record<string, unknown>[] } | null;
  redirectUris: string[];
  grantTypes: string[];
  /** Tokens whose `iat` is before this are inactive: set when the client is disabled. */
  tokensValidAfter: number;
  createdAt: number;
  updatedAt: number;
}

export type ClientPatch = Partial<Omit<ClientRecord, 'clientId' | 'kind' | 'createdAt'>>;

export interface ClientRecords {
  createClient(record: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | null>;
  listClients(filter?: { kind?: ClientKind }): Promise<ClientRecord[]>;
  /** Applies the patch and returns the updated record, or null when no such client exists. */
  updateClient(clientId: string, patch: ClientPatch): Promise<ClientRecord | null>;
  deleteClient(clientId: string): Promise<boolean>;
}

export type ScopeRisk = 'low' | 'medium' | 'high';
export interface ResourceScope {
  name: string;
  description: string | null;
  risk: ScopeRisk;
}

/** A protected resource (an API or MCP server) with its canonical URI and the scopes it understands. */
export interface ResourceRecord {
  id: string;
  uri: string;
  name: string;
  scopes: ResourceScope[];
  /** Id part of the resource's API key (`mrk_<id>.<secret>`), used to find the key without scanning. */
  apiKeyId: string;
  apiKeyHash: string;
  createdAt: number;
  updatedAt: number;
}

export interface ResourceRecords {
  createResource(record: ResourceRecord): Promise<void>;
  getResourceByUri(uri: string): Promise<ResourceRecord | null>;
  getResourceByApiKeyId(apiKeyId: string): Promise<ResourceRecord | null>;
  listResources(): Promise<ResourceRecord[]>;
  updateResource(id: string, patch: Partial<Pick<ResourceRecord, 'name' | 'scopes' | 'apiKeyId' | 'apiKeyHash' | 'updatedAt'>>): Promise<ResourceRecord | null>;
  deleteResource(id: string): Promise<boolean>;
}

export interface AdminTokenRecord {
  id: string;
  name: string;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface AdminTokenRecords {
  createAdminToken(record: AdminTokenRecord): Promise<void>;
  getAdminToken(id: string): Promise<AdminTokenRecord | null>;
  listAdminTokens(): Promise<AdminTokenRecord[]>;
  revokeAdminToken(id: string, revokedAt: number): Promise<boolean>;
}

export type SigningAlgorithm = 'ES256' | 'EdDSA' | 'RS256';
export type SigningKeyStatus = 'active' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: Record<string, unknown>;
  /** The PKCS#8 private key, encrypted under the key-encryption key (`keys/kek.ts`). */
  privateKeyEncrypted: string;
  status: SigningKeyStatus;
  createdAt: number;
  retiredAt: number | null;
  /** A retired key stays in the JWKS until every token it signed has expired. */
  publishUntil: number | null;
}

export interface SigningKeyRecords {
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts the key as the active one unless an active key exists already (first start, possibly racing). */
  insertFirstActiveKey(record: SigningKeyRecord): Promise<boolean>;
  /** Atomically retires the active key (published until `publishUntil`) and makes `record` active. */
  rotateActiveKey(record: SigningKeyRecord, retiredAt: number, publishUntil: number): Promise<void>;
}

export interface RevocationRecords {
  /** Marks a token id revoked until it would have expired anyway. */
  revokeTokenId(jti: string, expiresAt: number): Promise<void>;
  isTokenIdRevoked(jti: string): Promise<boolean>;
}

export interface ReplayRecords {
  /** Records `key` until `expiresAt`. True the first time, false while it is recorded and unexpired at `now` (a replay). */
  consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
}

/** One audit event as the audit log hands it to the store, hash already computed. */
export interface AuditRow {
  seq: number;
  tsMs: number;
  event: string;
  actor: string | null;
  subject: string | null;
  clientId: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The `prevHash` of the first audit row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditFilter {
  event?: string;
  /** Matches actor, subject or client id. */
  principal?: string;
  clientId?: string;
  sinceMs?: number;
  untilMs?: number;
  afterSeq?: number;
  limit?: number;
  /** Newest first when true. */
  descending?: boolean;
}

export interface AuditRecords {
  /**
   * Appends rows at the end of the chain in one transaction. `build` receives the current head inside the
   * transaction, so concurrent writers (other processes, other instances) never fork the chain.
   */
  appendAuditRows(build: (head: AuditHead) => AuditRow[]): Promise<void>;
  listAuditRows(filter: AuditFilter): Promise<AuditRow[]>;
  auditHead(): Promise<AuditHead>;
}

export interface Store
  extends ClientRecords,
    ResourceRecords,
    AdminTokenRecords,
    SigningKeyRecords,
    RevocationRecords,
    ReplayRecords,
    AuditRecords {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<string[]>;
  /** Deletes rows whose expiry has passed (revocations, replay markers). */
  purgeExpired(now: number): Promise<number>;
  close(): Promise<void>;
}

/** A unique or not-null constraint refused a write; the message names no SQL. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}
