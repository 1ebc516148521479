/**
 * (Longer than the usual 400 lines on purpose: the whole storage contract in one file is its documentation.)
 *
 * The storage contract. `sqlite/` and `postgres/` implement it; nothing outside `store/` imports either.
 *
 * The store speaks in records, hashes, expiry times and atomic operations. It never sees a raw secret or token
 * (callers hash first, see `tokens/secret.ts`), and it never checks OAuth rules: scopes, redirect URIs and PKCE
 * belong to grants and policy. Times are epoch seconds unless a name says otherwise (`tsMs`).
 *
 * Every method is async so both backends share one shape; the SQLite one completes synchronously underneath.
 */
import type { McpToolAuthorizationDetail, RevocationEvent, SigningAlgorithm } from '@mandate/protocol';

import type { ActionTokenUseRecords, ToolPolicyRecords } from './action-approvals.ts';
import type { ClientRegistrationRecords } from './client-registration.ts';
import type { DeviceAuthorizationRecords } from './device-authorization.ts';
import type { PendingAuthorizationRecords } from './pending-authorization.ts';
import type { PushedAuthorizationRecords } from './pushed-authorization.ts';
import type { RevocationWebhookRecords } from './revocation-webhooks.ts';
import type { ApprovalWebhookRecords } from './approval-webhooks.ts';

export type { PendingAuthorizationRecord, PendingAuthorizationRecords } from './pending-authorization.ts';
export type { PushedAuthorizationRecord, PushedAuthorizationRecords } from './pushed-authorization.ts';
export type { DeviceAuthorizationRecord, DeviceAuthorizationRecords, DevicePoll } from './device-authorization.ts';
export type { ClientRegistrationRecord, ClientRegistrationRecords, RegistrationSource } from './client-registration.ts';
export type { ApprovalEventKind, ApprovalWebhookDeliveryRecord, ApprovalWebhookRecord, ApprovalWebhookRecords, ClaimedApprovalDelivery } from './approval-webhooks.ts';
export type { ClaimedWebhookDelivery, RevocationWebhookRecord, RevocationWebhookRecords, WebhookDeliveryRecord, WebhookDeliveryStatus } from './revocation-webhooks.ts';

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
  /** What a request without `scope` asks for (policy/token-targets.ts); empty: the resource's defaults. */
  defaultScopes: string[];
  /** Canonical resource URIs the client may get tokens for (RFC 8707). */
  allowedAudiences: string[];
  /** May request Transaction Tokens (an agent as a workload of the trust domain). False when absent. */
  txnTokensAllowed?: boolean;
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
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: token requests without a DPoP proof are refused. False when absent. */
  dpopBoundAccessTokens?: boolean;
  /** RFC 9126 §6 `require_pushed_authorization_requests`: plain authorization requests are refused. False when absent. */
  requirePushedAuthorizationRequests?: boolean;
  /** OpenID CIBA Core 1.0 §4 `backchannel_token_delivery_mode`: how the client learns of a decision. Poll when absent. */
  backchannelTokenDeliveryMode?: 'poll' | 'ping' | null;
  /** CIBA §4 `backchannel_client_notification_endpoint`: where a `ping` client is notified. */
  backchannelClientNotificationEndpoint?: string | null;
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
  /** Deletes the client and appends a cutoff event for its tokens (issue 11 item 5); false when there was none. */
  deleteClient(clientId: string, now: number): Promise<boolean>;
}

export type ScopeRisk = 'low' | 'medium' | 'high' | 'critical';
export type ScopePolicyKind = 'auto' | 'user_consent' | 'admin_approval' | 'role_required' | 'deny';

/** A scope's policy (policy/scope-policy.ts decides by it); `version` counts its edits, 0 for a risk's default. */
export interface ScopePolicySetting {
  kind: ScopePolicyKind;
  /** For `role_required`: the role the user must hold. */
  role?: string;
  /**
   * For `admin_approval`: who decides. `approvers` (the default): users with the approver role, never on their own
   * request; `user`: also the user on whose behalf the agent acts, on /account (issue 12 item 2).
   */
  approver?: 'approvers' | 'user';
  conditions?: {
    /** Only these clients or agents (one of the chain listed) may get the scope. */
    clients?: string[];
    /** Tokens carrying the scope live at most this long. */
    maxTokenLifetimeSeconds?: number;
    /** At most this many actors in the token's `act` chain. */
    maxChainDepth?: number;
    /** Only between these UTC times (`HH:MM`; `to` before `from` wraps past midnight). */
    timeWindow?: { from: string; to: string };
  };
  version: number;
}

export interface ResourceScope {
  name: string;
  description: string | null;
  risk: ScopeRisk;
  /** Absent: the default of its risk (policy/scope-policy.ts `DEFAULT_POLICY_BY_RISK`). */
  policy?: ScopePolicySetting;
}

/** One version of a scope's policy, kept for the record (every edit adds one). */
export interface ScopePolicyVersionRecord {
  resourceId: string;
  scope: string;
  version: number;
  risk: ScopeRisk;
  policy: ScopePolicySetting;
  changedBy: string;
  changedAt: number;
}

export type { ActionTokenUseRecord, ActionTokenUseRecords, ToolPolicyRecord, ToolPolicyRecords } from './action-approvals.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A grant that a scope policy sent to approvers (issue 12 item 2): what was asked, by whom, and the decision. */
export interface ApprovalRequestRecord {
  id: string;
  status: ApprovalStatus;
  /** The client that asked, and the chain it asks for (client first, then agents). */
  clientId: string;
  chain: string[];
  /** The user on whose behalf, or null for a client acting for itself. */
  userId: string | null;
  scopes: string[];
  resources: string[];
  justification: string | null;
  /** The highest risk among the scopes. */
  risk: ScopeRisk;
  /** RFC 9396: the one `mcp_tool` call a per-action approval approves (issue 12 item 4), or null. */
  authorizationDetails?: McpToolAuthorizationDetail[] | null;
  /** Identifies the exact request (resources and scopes) so a repeat finds it rather than adding another. */
  requestKey: string;
  createdAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
  /** When a token was issued on the approval: it is good for one. */
  usedAt: number | null;
  /** CIBA (item 3): SHA-256 of the `auth_req_id` the client polls with, the interval it must keep, its last poll. */
  authReqHash: string | null;
  pollInterval: number | null;
  lastPolledAt: number | null;
  /**
   * CIBA ping mode (§10.2): the notification, sealed (flows/ciba-ping.ts), and its delivery: `waiting` for the
   * decision, then `pending` until delivered or given up (`failed`). Absent for every other request.
   */
  pingSealed?: string | null;
  pingStatus?: CibaPingStatus | null;
  pingAttempts?: number | null;
  pingNextAttemptAt?: number | null;
  pingLastResult?: string | null;
}

export type CibaPingStatus = 'waiting' | 'pending' | 'delivered' | 'failed';

export interface ApprovalRequestRecords {
  createApprovalRequest(record: ApprovalRequestRecord): Promise<void>;
  getApprovalRequest(id: string): Promise<ApprovalRequestRecord | null>;
  /** The newest request of this client for this exact request that is pending, or approved and unused, and unexpired. */
  findOpenApprovalRequest(clientId: string, requestKey: string, now: number): Promise<ApprovalRequestRecord | null>;
  /**
   * Newest first, at most 500. Reads only: a pending request past its expiry is listed as `expired` (and not as
   * `pending`) whether or not `expireApprovalRequests` has marked it yet. `userId` keeps the requests made on that
   * user's behalf (filtered in the query, so other users' newer requests never crowd them out).
   */
  listApprovalRequests(filter: { status?: ApprovalStatus; userId?: string }, now: number): Promise<ApprovalRequestRecord[]>;
  /**
   * Marks pending requests past their expiry `expired` and queues their `expired` approval-webhook events, in one
   * transaction (a timer runs it); returns how many it closed.
   */
  expireApprovalRequests(now: number): Promise<number>;
  /**
   * Marks a pending, unexpired request decided, and queues its approval-webhook event in the same transaction; false
   * when it was not (decided already, expired, unknown).
   */
  decideApprovalRequest(id: string, decision: { status: 'approved' | 'denied'; decidedBy: string; reason: string | null }, now: number): Promise<boolean>;
  /** Takes an approved, unused, unexpired request for one token; false when another took it first. */
  useApprovalRequest(id: string, now: number): Promise<boolean>;
  getApprovalRequestByAuthReq(authReqHash: string): Promise<ApprovalRequestRecord | null>;
  /**
   * A CIBA poll of a pending request, decided and recorded in one conditional write (concurrent polls cannot both
   * pass the interval): `pending` when the interval had passed since the last poll (or none was made), `slow_down`
   * (the interval grown by `step`) when it had not, `decided` when the request is no longer pending (read it again).
   */
  pollApprovalRequest(id: string, now: number, interval: { initial: number; step: number }): Promise<{ outcome: 'pending' | 'slow_down'; interval: number } | { outcome: 'decided' }>;
  /**
   * Calls `listener` after this process created, decided or expired an approval request (another instance's are
   * found by reading); returns the unsubscribe.
   */
  onApprovalEvent(listener: () => void): () => void;
  /**
   * Claims up to `limit` decided requests whose ping is due at `now`, moving each one's next attempt `leaseSeconds`
   * on, so that another instance does not send it meanwhile.
   */
  claimDueCibaPings(now: number, leaseSeconds: number, limit: number): Promise<ApprovalRequestRecord[]>;
  recordCibaPingAttempt(id: string, outcome: { status: CibaPingStatus; attempts: number; nextAttemptAt: number; lastResult: string }): Promise<void>;
}

export interface ScopePolicyRecords {
  /**
   * Stores the resource's scopes (one of them with a new policy) and that policy's version, in one transaction;
   * StoreConflictError when that version exists (a concurrent edit won).
   */
  saveScopePolicy(resourceId: string, scopes: ResourceScope[], version: ScopePolicyVersionRecord): Promise<void>;
  listScopePolicyVersions(resourceId: string, scope: string): Promise<ScopePolicyVersionRecord[]>;
}

/** A protected resource (an API or MCP server) with its canonical URI and the scopes it understands. */
export interface ResourceRecord {
  id: string;
  uri: string;
  name: string;
  scopes: ResourceScope[];
  /** Names among `scopes` granted to a client that asks for no scope and has no defaults of its own. */
  defaultScopes: string[];
  /** The downstream resources this resource server may exchange a token for itself into (a gateway's allowance). */
  downstreamResources: string[];
  /** May request Transaction Tokens with its API key (a workload of the trust domain). False when absent. */
  txnTokensAllowed?: boolean;
  /** Id part of the resource's API key (`mrk_<id>.<secret>`), used to find the key without scanning. */
  apiKeyId: string;
  apiKeyHash: string;
  /** The key replaced by the last rotation, honoured until `previousApiKeyExpiresAt` (its grace period). */
  previousApiKeyId: string | null;
  previousApiKeyHash: string | null;
  previousApiKeyExpiresAt: number | null;
  /**
   * Since when the current key has been the one in use: a token the resource server obtained by downstream exchange
   * (its `act` names it) issued before this instant was obtained with a replaced key, and lives only while that
   * key's grace period lasts (issue 11: rotating a resource server's key ends what it obtained with the old one).
   */
  apiKeySince: number;
  /** Since when the previous key was the one in use: tokens older than this were obtained with a key no longer honoured. */
  previousApiKeySince: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ResourceRecords {
  createResource(record: ResourceRecord): Promise<void>;
  getResourceByUri(uri: string): Promise<ResourceRecord | null>;
  /** The resource whose current or previous API key has this id. */
  getResourceByApiKeyId(apiKeyId: string): Promise<ResourceRecord | null>;
  /** Allows or denies a resource server's Txn-Token requests (`txnTokensAllowed`); false when there is no such resource. */
  setResourceTxnTokensAllowed(id: string, allowed: boolean, updatedAt: number): Promise<boolean>;
  listResources(): Promise<ResourceRecord[]>;
  /**
   * Updates the resource. A patch that moves `apiKeySince` (a key rotation) appends a revocation event cutting the
   * tokens the resource server obtained before the oldest key still honoured (`previousApiKeySince`, or
   * `apiKeySince` when no previous key is kept): `{ cutoff: [{ party: 'resource', id: uri, iat_before }] }`.
   */
  updateResource(
    id: string,
    patch: Partial<
      Pick<ResourceRecord, 'name' | 'scopes' | 'defaultScopes' | 'downstreamResources' | 'apiKeyId' | 'apiKeyHash' | 'previousApiKeyId' | 'previousApiKeyHash' | 'previousApiKeyExpiresAt' | 'apiKeySince' | 'previousApiKeySince' | 'updatedAt'>
    >,
  ): Promise<ResourceRecord | null>;
  /** Resources whose previous API key's grace period is over at `now` but is still recorded. */
  listEndedResourceKeyGraces(now: number): Promise<ResourceRecord[]>;
  /**
   * Forgets the resource's previous key once its grace period is over, and appends the revocation event that ends
   * what the resource server obtained with it (a cutoff at `apiKeySince`); false when another instance did it first.
   */
  endResourceKeyGrace(id: string, now: number): Promise<boolean>;
  /** Deletes the resource and appends a cutoff event for every chain that passed through it (issue 11 item 5). */
  deleteResource(id: string, now: number): Promise<boolean>;
}

/** What an admin API token may do (deny by default: a route names the roles it admits; `admin` every route). */
export type AdminRole = 'admin' | 'approver' | 'viewer';

export interface AdminTokenRecord {
  id: string;
  name: string;
  role: AdminRole;
  /** The user this token speaks for: approvals it decides are recorded as theirs. */
  userId: string | null;
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

export type SigningKeyStatus = 'active' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: Record<string, unknown>;
  /** The PKCS#8 private key, encrypted under the key-encryption key (`keys/kek.ts`); empty for an external key. */
  privateKeyEncrypted: string;
  /** The external signer's name for the key (a KMS key id, an HSM label); null for a key of the local key store. */
  externalKeyRef: string | null;
  status: SigningKeyStatus;
  createdAt: number;
  retiredAt: number | null;
  /** A retired key stays in the JWKS until every token it signed has expired. */
  publishUntil: number | null;
  /** When the key starts signing (SR-08: it is published before); null: from its creation. */
  activatesAt: number | null;
}

export interface SigningKeyRecords {
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts the key as the active one unless an active key exists already (first start, possibly racing). */
  insertFirstActiveKey(record: SigningKeyRecord): Promise<boolean>;
  /**
   * Atomically retires the active key (signing until `retiredAt`, published until `publishUntil`) and makes
   * `record` active (signing from its `activatesAt`). False, changing nothing, when the active key has not started
   * signing at `now` yet: one rotation at a time. With `onlyIfActiveCreatedBefore`, also false when the active key
   * was created at or after it: a scheduled rotation that another instance already made.
   */
  rotateActiveKey(record: SigningKeyRecord, retiredAt: number, publishUntil: number, now: number, onlyIfActiveCreatedBefore?: number): Promise<boolean>;
}

export interface RevocationRecords {
  /**
   * Marks a token id revoked until it would have expired anyway, and every token derived from it (its descendants
   * in the lineage, however deep) until theirs; resolves to the number of descendants newly revoked. When that
   * changed anything, appends one revocation event naming the token and all its descendants, and their audiences
   * (`audiences`: the token's own `aud` values; the descendants' come from the lineage) when all of them are known.
   */
  revokeTokenId(jti: string, expiresAt: number, now: number, audiences?: readonly string[]): Promise<number>;
  isTokenIdRevoked(jti: string): Promise<boolean>;
  /**
   * Records that the token `childJti` (expiring at `expiresAt`, for `audiences`: its `aud` values) derives from
   * `parentJtis`. Resolves to false, and revokes the child, when a parent is revoked by then: a revocation racing
   * the derivation wins either way.
   */
  recordDerivation(childJti: string, parentJtis: readonly string[], expiresAt: number, audiences?: readonly string[]): Promise<boolean>;
}

/**
 * One issued Transaction Token (issue 11 item 5): its id, its transaction, and the claims of the access token the
 * transaction started from (a JWT payload without signature: nothing secret), which the lifecycle re-checks at every
 * use, so the Txn-Token lives no longer than that token's chain. A replacement copies its original's root.
 */
export interface TransactionTokenRecord {
  jti: string;
  txn: string;
  rootClaims: Record<string, unknown>;
  /** The workloads that requested it: the original requester first, then each replacement's (the call chain). */
  workloads: TransactionTokenWorkload[];
  createdAt: number;
  expiresAt: number;
}

/** A workload of the trust domain: an agent (by client id) or a resource server (by its URI). */
export interface TransactionTokenWorkload {
  kind: 'agent' | 'resource';
  id: string;
}

export interface TransactionTokenRecords {
  recordTransactionToken(record: TransactionTokenRecord): Promise<void>;
  /** The record, or null when there is none (never issued here, or purged after its expiry). */
  getTransactionToken(jti: string): Promise<TransactionTokenRecord | null>;
}

/** One stored revocation event (issue 11 item 3): its id orders the log and is the SSE event id. */
export interface RevocationEventRecord {
  id: number;
  createdAt: number;
  event: RevocationEvent;
}

/**
 * The revocation event log. Every revoking write of this store appends an event after it (a token and its
 * descendants, a grant, grants of a party, a party's cutoff), so no revocation path can forget one.
 */
export interface RevocationEventRecords {
  /** Events after `afterId`, oldest first, at most `limit`. */
  listRevocationEvents(afterId: number, limit: number): Promise<RevocationEventRecord[]>;
  /** The newest event's id, 0 when there is none: where a new subscriber without Last-Event-ID starts. */
  lastRevocationEventId(): Promise<number>;
  /** Calls `listener` after this store (this process) appended an event; returns the unsubscribe function. */
  onRevocationEvent(listener: () => void): () => void;
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

/**
 * The chain head as the last append committed it, kept in its own table so that deleting rows from `audit_log`
 * does not move it. Its `mac` (made with the audit key, which never enters the database) stops anyone without the
 * key from setting it back; see audit/audit-chain.ts.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** Rows before this seq were written before the audit key existed: chained with plain SHA-256, no MAC. */
  keyedFromSeq: number;
  /** Null only until the first keyed append adopts the rows written before migration 020. */
  mac: string | null;
}

/** What an append or a verification starts from: the anchor, and the last row actually in the table. */
/** Where audit retention cut the chain: rows up to `seq` are gone, `hash` was row `seq`'s link, `mac` vouches for both. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  mac: string;
}

export interface AuditChainState {
  anchor: AuditAnchor | null;
  lastRow: AuditHead;
}

export interface AuditFilter {
  event?: string;
  /** Matches actor, subject or client id. */
  principal?: string;
  clientId?: string;
  subject?: string;
  /** The `tool` of a tool-call row (`detail.tool`, issue 12 item 7). */
  tool?: string;
  sinceMs?: number;
  untilMs?: number;
  afterSeq?: number;
  limit?: number;
  /** Newest first when true. */
  descending?: boolean;
}

/**
 * Records of issued tokens that are written in the transaction of their `token.issued` audit rows, so that no token
 * exists without its row, whatever crash comes between (issue 14: fault injection). A refresh token whose grant is
 * gone by then is not written (the grant's deletion ended it).
 */
export interface IssuedTokenRecords {
  refreshTokens?: RefreshTokenRecord[];
  transactionTokens?: TransactionTokenRecord[];
}

export interface AuditRecords {
  /**
   * Appends rows at the end of the chain and replaces the anchor, in one transaction, with the `records` of the
   * tokens the rows record. `build` receives the chain state inside the transaction, so concurrent writers (other
   * processes, other instances) never fork the chain; an exception from `build` writes nothing.
   */
  appendAuditRows(build: (state: AuditChainState) => { rows: AuditRow[]; anchor: AuditAnchor }, records?: IssuedTokenRecords): Promise<void>;
  /**
   * The hot path's append, for batches without token records: `batch` continues `head`, an anchor the caller has verified (the one it committed last,
   * or one it read). It is written, and the anchor moved to `batch.anchor`, only if the anchor is still exactly
   * `head`, no row follows it and no `appendAuditRows` holds the append lock; otherwise nothing is written and the
   * chain's state as then seen comes back, for the caller to verify and build on again. One statement on PostgreSQL,
   * so no lock is held across round trips and instances do not queue behind one another's.
   */
  appendAuditRowsAfter(head: AuditAnchor, batch: { rows: AuditRow[]; anchor: AuditAnchor }): Promise<{ appended: true } | { appended: false; state: AuditChainState }>;
  listAuditRows(filter: AuditFilter): Promise<AuditRow[]>;
  /** The anchor and the last row, read together. */
  auditChainState(): Promise<AuditChainState>;
  /**
   * Retention: deletes the rows up to `throughSeq` and records the checkpoint `seal` makes of row `throughSeq`, in
   * one transaction under the append lock. Returns the rows deleted; 0, and nothing changed, when that row is gone
   * or the checkpoint is already past it.
   */
  pruneAuditRows(throughSeq: number, seal: (head: AuditHead) => AuditCheckpoint): Promise<number>;
  auditCheckpoint(): Promise<AuditCheckpoint | null>;
}

export type UserStatus = 'active' | 'disabled';

/** A person. Their id (`usr_…`) is the `sub` of the tokens issued for them; it never collides with an agent id. */
export interface UserRecord {
  id: string;
  /** Normalised (users/email-address.ts); null for an upstream account that shared no email. Unique. */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** Versioned scrypt hash (`users/password.ts`); null for accounts without a password. */
  passwordHash: string | null;
  isAdmin: boolean;
  /** Roles a scope policy may require (`role_required`), e.g. `approver`. */
  roles: string[];
  status: UserStatus;
  /** Tokens whose `iat` is before this are inactive: set when the user is disabled. */
  tokensValidAfter: number;
  createdAt: number;
  updatedAt: number;
}

/** A user's account at an upstream OpenID provider, found by (issuer, subject). */
export interface UserIdentityRecord {
  issuer: string;
  subject: string;
  userId: string;
  providerId: string;
  email: string | null;
  createdAt: number;
}

export interface UserRecords {
  /** Throws StoreConflictError when the id or email exists. */
  createUser(record: UserRecord): Promise<void>;
  getUser(id: string): Promise<UserRecord | null>;
  /** `email` must already be normalised (users/email-address.ts). */
  getUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(id: string, patch: Partial<Omit<UserRecord, 'id' | 'createdAt'>>): Promise<UserRecord | null>;
  /** Deletes the user (their grants go with them) and appends a cutoff event for their tokens; false when there was none. */
  deleteUser(id: string, now: number): Promise<boolean>;
  /** Creates the user and links the identity in one transaction (first login through an upstream provider). */
  createUserWithIdentity(user: UserRecord, identity: UserIdentityRecord): Promise<void>;
  /** Throws StoreConflictError when (issuer, subject) is linked already. */
  linkIdentity(record: UserIdentityRecord): Promise<void>;
  getIdentity(issuer: string, subject: string): Promise<UserIdentityRecord | null>;
  listIdentities(userId: string): Promise<UserIdentityRecord[]>;
}

/** A WebAuthn credential (passkey) registered by a user. */
export interface PasskeyRecord {
  /** base64url credential id. */
  credentialId: string;
  userId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyRecords {
  createPasskey(record: PasskeyRecord): Promise<void>;
  getPasskey(credentialId: string): Promise<PasskeyRecord | null>;
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  recordPasskeyUse(credentialId: string, counter: number, usedAt: number): Promise<void>;
  deletePasskey(userId: string, credentialId: string): Promise<boolean>;
}

/**
 * A browser session, keyed by the SHA-256 of its cookie value. Anonymous (no user) until someone logs in; the
 * login replaces it with a new one (a new id) so a planted session id never becomes authenticated.
 */
export interface SessionRecord {
  idHash: string;
  userId: string | null;
  authTime: number | null;
  /** RFC 8176 authentication methods: `pwd`, `hwk`/`user` for passkeys, `fed` for upstream providers. */
  amr: string[];
  /** Pending WebAuthn challenge; single use (`takeSessionChallenge`). */
  challenge: string | null;
  challengeExpiresAt: number | null;
  createdAt: number;
  /** Absolute end (`users.sessionTtlSeconds` after the login). */
  expiresAt: number;
  /** When the session was last used (written at most once a minute): it ends after `users.sessionIdleTimeoutSeconds` without use. */
  lastSeenAt: number;
}

export interface SessionRecords {
  createSession(record: SessionRecord): Promise<void>;
  /** The session if it exists and has not expired at `now`. */
  getSession(idHash: string, now: number): Promise<SessionRecord | null>;
  setSessionChallenge(idHash: string, challenge: string, expiresAt: number): Promise<void>;
  /** Returns and clears the pending challenge atomically; null when none or expired. */
  takeSessionChallenge(idHash: string, now: number): Promise<string | null>;
  /** Records a use of the session (for its idle timeout). */
  touchSession(idHash: string, now: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteUserSessions(userId: string): Promise<number>;
  /** When the user last signed in, over their unexpired sessions; null when none (a critical approval needs a fresh one). */
  latestAuthTime(userId: string, now: number): Promise<number | null>;
}

/** The `state` of a login through an upstream provider, bound to the browser session that started it. */
export interface UpstreamLoginStateRecord {
  stateHash: string;
  sessionHash: string;
  providerId: string;
  returnTo: string;
  expiresAt: number;
}

export interface UpstreamLoginStateRecords {
  createUpstreamLoginState(record: UpstreamLoginStateRecord): Promise<void>;
  /**
   * Deletes and returns the state (single use) if it belongs to the session `sessionHash`; null when unknown,
   * another session's (which leaves it in place: holding a state value cannot cancel someone's login, SR-22) or expired.
   */
  takeUpstreamLoginState(stateHash: string, sessionHash: string, now: number): Promise<UpstreamLoginStateRecord | null>;
}

/** Failed-login counters, per account and per address. */
export interface LoginThrottleRecord {
  key: string;
  failures: number;
  lockedUntil: number;
  updatedAt: number;
}

export interface LoginThrottleRecords {
  getLoginThrottle(key: string): Promise<LoginThrottleRecord | null>;
  /**
   * Reads the counters of `keys` (a missing one as zero failures, `updatedAt` 0) and writes the records `decide`
   * returns, in one transaction that holds those rows: concurrent calls on a key see each other's writes, so a
   * login attempt is counted (or refused) before anything slow happens (SR-06). `decide` must be pure.
   */
  updateLoginThrottles<T>(keys: readonly string[], decide: (current: LoginThrottleRecord[]) => { write: LoginThrottleRecord[]; result: T }): Promise<T>;
  clearLoginFailures(key: string): Promise<void>;
}

export type UserGrantStatus = 'active' | 'revoked';

/**
 * What a user granted a client (and the agent it named) in one authorization: the root of an authorization code,
 * a refresh-token family and every access token derived from them (which carry its id as `gid`). Revoking it
 * makes all of those inactive at once.
 */
export interface UserGrantRecord {
  id: string;
  userId: string;
  clientId: string;
  actorId: string | null;
  scopes: string[];
  resources: string[];
  authTime: number;
  /** How the user authenticated for it (RFC 8176 values), as the ID tokens of the grant report them. */
  amr: string[];
  status: UserGrantStatus;
  createdAt: number;
  /** Absolute end of the refresh-token family. */
  expiresAt: number;
  revokedAt: number | null;
}

export interface AuthorizationCodeRecord {
  codeHash: string;
  grantId: string;
  redirectUri: string;
  /** The S256 `code_challenge`; the verifier itself is never stored. */
  codeChallenge: string;
  nonce: string | null;
  expiresAt: number;
  consumedAt: number | null;
  /** RFC 9449 §10 `dpop_jkt` of the authorization request: the code is redeemed only with a proof of that key. */
  dpopJkt?: string | null;
  /** RFC 9396: the one `mcp_tool` call the user approved (a pushed request's details); its tokens approve only it. */
  authorizationDetails?: McpToolAuthorizationDetail[] | null;
}

/** `redeemed`: this call consumed the code. `replayed`: it was consumed before (RFC 9700 §4.5: revoke the grant). */
export type CodeRedemption =
  | { status: 'redeemed'; code: AuthorizationCodeRecord; grant: UserGrantRecord }
  | { status: 'replayed'; grant: UserGrantRecord }
  | { status: 'unknown' };

export interface RefreshTokenRecord {
  tokenHash: string;
  grantId: string;
  status: 'active' | 'rotated';
  createdAt: number;
  expiresAt: number;
  /** RFC 9449 §5: a public client's refresh token is bound to its DPoP key (thumbprint), and stays so across rotations. */
  dpopJkt?: string | null;
}

export interface UserGrantRecords {
  /** Writes the grant and its authorization code in one transaction. */
  createGrantWithCode(grant: UserGrantRecord, code: AuthorizationCodeRecord): Promise<void>;
  /** Writes a grant that has no code (CIBA: the user approved out of band). */
  createGrant(grant: UserGrantRecord): Promise<void>;
  getGrant(id: string): Promise<UserGrantRecord | null>;
  listUserGrants(userId: string): Promise<UserGrantRecord[]>;
  /**
   * The newest `limit` grants of this user to this client for this agent (null: none) that are active and unexpired
   * at `now`, newest first (those of one second in any order): what an authorization request looks at for what was granted before.
   */
  listRecentGrants(userId: string, clientId: string, actorId: string | null, now: number, limit: number): Promise<UserGrantRecord[]>;
  /** Every grant still active and unexpired at `now`, of every user, newest first, at most `limit` (the console's list). */
  listActiveGrants(now: number, limit: number): Promise<UserGrantRecord[]>;
  /** Marks the grant revoked (and appends a revocation event naming it and its resources); false when it was unknown or revoked already. */
  revokeGrant(id: string, now: number): Promise<boolean>;
  /**
   * Revokes every active grant of a user, or every active grant a client or agent takes part in (as the client or
   * the named agent), atomically; returns the ids it revoked (and appends one revocation event naming them). A
   * disable and a password reset call it.
   */
  revokeGrantsOf(party: { userId: string } | { clientId: string }, now: number): Promise<string[]>;
  /**
   * Consumes the code atomically: exactly one concurrent caller gets `redeemed`, with its grant as it stood when the
   * code was consumed (so a concurrent replay's revocation, which can only follow, does not refuse the winner too).
   */
  redeemAuthorizationCode(codeHash: string, now: number): Promise<CodeRedemption>;
  createRefreshToken(record: RefreshTokenRecord): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Marks `oldHash` rotated, in one statement: exactly one concurrent caller gets `rotated`. `reused` when it was
   * rotated already (by an earlier or a concurrent call): the caller must treat the family as stolen. Its successor
   * is written with the successor's audit row (`IssuedTokenRecords`).
   */
  retireRefreshToken(oldHash: string): Promise<'rotated' | 'reused' | 'unknown'>;
}

/** Remembered consent per (user, client, agent or '', resource or ''). */
export interface ConsentRecord {
  userId: string;
  clientId: string;
  actorId: string;
  resource: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
}

export interface ConsentRecords {
  getConsent(userId: string, clientId: string, actorId: string, resource: string): Promise<ConsentRecord | null>;
  /** Inserts or replaces the remembered scopes of that key. */
  saveConsent(record: ConsentRecord): Promise<void>;
  listConsents(userId: string): Promise<ConsentRecord[]>;
  deleteConsent(userId: string, clientId: string, actorId: string, resource: string): Promise<boolean>;
}

export interface RateLimitRecords {
  /**
   * Adds each key's count to its counter for the minute starting at `windowStart` (epoch seconds) and returns every
   * given key's total over all instances. A key given with 0 only reads its total.
   */
  addRateLimitCounts(windowStart: number, counts: ReadonlyMap<string, number>): Promise<Map<string, number>>;
}

/**
 * A delegation-chain policy as stored and shown (issue 11 item 1). A resource's: `max_depth`, `require_human_root`,
 * `allowed_actors`. An agent's: `may_delegate_to` (the actors it may pass a token on to).
 */
export interface DelegationPolicyDocument {
  max_depth?: number;
  require_human_root?: boolean;
  allowed_actors?: string[];
  may_delegate_to?: string[];
}

export type DelegationPolicyOwner = 'resource' | 'agent';

export interface DelegationPolicyRecords {
  /** The policy of a resource (by canonical URI) or an agent (by client id), or null when it has none. */
  getDelegationPolicy(ownerKind: DelegationPolicyOwner, ownerId: string): Promise<DelegationPolicyDocument | null>;
  /** Sets (replaces) or, with null, removes the policy. */
  setDelegationPolicy(ownerKind: DelegationPolicyOwner, ownerId: string, policy: DelegationPolicyDocument | null, now: number): Promise<void>;
}

export interface Store
  extends ClientRecords,
    DelegationPolicyRecords,
    ResourceRecords,
    ScopePolicyRecords,
    ApprovalRequestRecords,
    AdminTokenRecords,
    SigningKeyRecords,
    RevocationRecords,
    TransactionTokenRecords,
    RevocationEventRecords,
    RevocationWebhookRecords,
    ApprovalWebhookRecords,
    ReplayRecords,
    AuditRecords,
    UserRecords,
    PasskeyRecords,
    SessionRecords,
    UpstreamLoginStateRecords,
    LoginThrottleRecords,
    UserGrantRecords,
    ConsentRecords,
    PendingAuthorizationRecords,
    PushedAuthorizationRecords,
    DeviceAuthorizationRecords,
    RateLimitRecords,
    ClientRegistrationRecords,
    ToolPolicyRecords,
    ActionTokenUseRecords {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<string[]>;
  /**
   * Deletes rows whose expiry has passed (revocations, replay markers, sessions, codes, refresh tokens, throttles,
   * pending authorization requests, rate-limit counters of past minutes, Transaction Token rows).
   */
  purgeExpired(now: number): Promise<number>;
  /** Resolves once the database answers a trivial query: the readiness probe (`/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A unique constraint refused a write; the message names no SQL. Every driver call raises it for a unique
 * violation (`store/sql/driver.ts`), so a caller that did not expect one still answers 409, never 500.
 */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

/**
 * A value the database cannot hold as it is (a NUL character, an unpaired surrogate: `store/storable-text.ts`).
 * Bad input, never the server's fault: the HTTP layer answers 400.
 */
export class StoreInputError extends Error {
  override readonly name = 'StoreInputError';
}

/**
 * The database could not be opened or reached, or cannot serve a statement now (a dropped connection, a failover, a
 * lock held past the busy timeout, a full disk: sql/unavailable.ts). The statement's transaction did not commit. The
 * HTTP layer answers 503 with `Retry-After: retryAfterSeconds`; the message names no SQL.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** What a client is told to wait before retrying: about what a PostgreSQL failover or a lock holder takes. */
  readonly retryAfterSeconds = 5;
}
