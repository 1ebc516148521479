/**
 * The storage contract. `sqlite/` and `postgres/` implement it; nothing outside `store/` imports either.
 *
 * The store speaks in records, hashes, expiry times and atomic operations. It never sees a raw secret or token
 * (callers hash first, see `tokens/secret.ts`), and it never checks OAuth rules: scopes, redirect URIs and PKCE
 * belong to grants and policy. Times are epoch seconds unless a name says otherwise (`tsMs`).
 *
 * Every method is async so both backends share one shape; the SQLite one completes synchronously underneath.
 *
 * Each record family is a narrow interface in a file of its own (`clients.ts`: `ClientRecords`, `user-grants.ts`:
 * `UserGrantRecords`, …), documented there; `Store` composes them. A handler declares the slice it calls
 * (`Pick<ClientRecords, 'getClient'>`), and every record type is re-exported here, so `store.ts` stays the one
 * import of the contract.
 */
import type { ActionTokenUseRecords, ToolPolicyRecords } from './action-approvals.ts';
import type { AdminTokenRecords } from './admin-tokens.ts';
import type { ApprovalRequestRecords } from './approval-requests.ts';
import type { ApprovalWebhookRecords } from './approval-webhooks.ts';
import type { AuditRecords } from './audit.ts';
import type { ClientRecords } from './clients.ts';
import type { ClientRegistrationRecords } from './client-registration.ts';
import type { ConsentRecords } from './consents.ts';
import type { DelegationPolicyRecords } from './delegation-policies.ts';
import type { DeviceAuthorizationRecords } from './device-authorization.ts';
import type { LoginThrottleRecords } from './login-throttles.ts';
import type { PendingAuthorizationRecords } from './pending-authorization.ts';
import type { PushedAuthorizationRecords } from './pushed-authorization.ts';
import type { RateLimitRecords } from './rate-limits.ts';
import type { ReplayRecords } from './replay.ts';
import type { ResourceRecords, ScopePolicyRecords } from './resources.ts';
import type { RevocationEventRecords, RevocationRecords } from './revocations.ts';
import type { RevocationWebhookRecords } from './revocation-webhooks.ts';
import type { SessionRecords, UpstreamLoginStateRecords } from './sessions.ts';
import type { SigningKeyRecords } from './signing-keys.ts';
import type { TransactionTokenRecords } from './transaction-tokens.ts';
import type { UserGrantRecords } from './user-grants.ts';
import type { PasskeyRecords, UserRecords } from './users.ts';

export type { ClientKind, ClientPatch, ClientRecord, ClientRecords, ClientStatus, TokenEndpointAuthMethod } from './clients.ts';
export type { ResourceRecord, ResourceRecords, ResourceScope, ScopePolicyKind, ScopePolicyRecords, ScopePolicySetting, ScopePolicyVersionRecord, ScopeRisk } from './resources.ts';
export type { DelegationPolicyDocument, DelegationPolicyOwner, DelegationPolicyRecords } from './delegation-policies.ts';
export type { ApprovalRequestRecord, ApprovalRequestRecords, ApprovalStatus, CibaPingStatus } from './approval-requests.ts';
export type { AdminRole, AdminTokenRecord, AdminTokenRecords } from './admin-tokens.ts';
export type { SigningKeyRecord, SigningKeyRecords, SigningKeyStatus } from './signing-keys.ts';
export type { RevocationEventRecord, RevocationEventRecords, RevocationRecords } from './revocations.ts';
export type { TransactionTokenRecord, TransactionTokenRecords, TransactionTokenWorkload } from './transaction-tokens.ts';
export type { ReplayRecords } from './replay.ts';
export type { AuditAnchor, AuditChainState, AuditCheckpoint, AuditFilter, AuditHead, AuditRecords, AuditRow, IssuedTokenRecords } from './audit.ts';
export { AUDIT_GENESIS_HASH } from './audit.ts';
export type { PasskeyRecord, PasskeyRecords, UserIdentityRecord, UserRecord, UserRecords, UserStatus } from './users.ts';
export type { SessionRecord, SessionRecords, UpstreamLoginStateRecord, UpstreamLoginStateRecords } from './sessions.ts';
export type { LoginThrottleRecord, LoginThrottleRecords } from './login-throttles.ts';
export type { AuthorizationCodeRecord, CodeRedemption, RefreshTokenRecord, UserGrantRecord, UserGrantRecords, UserGrantStatus } from './user-grants.ts';
export type { ConsentRecord, ConsentRecords } from './consents.ts';
export type { RateLimitRecords } from './rate-limits.ts';
export type { PendingAuthorizationRecord, PendingAuthorizationRecords } from './pending-authorization.ts';
export type { PushedAuthorizationRecord, PushedAuthorizationRecords } from './pushed-authorization.ts';
export type { DeviceAuthorizationRecord, DeviceAuthorizationRecords, DevicePoll } from './device-authorization.ts';
export type { ClientRegistrationRecord, ClientRegistrationRecords, RegistrationSource } from './client-registration.ts';
export type { ApprovalEventKind, ApprovalWebhookDeliveryRecord, ApprovalWebhookRecord, ApprovalWebhookRecords, ClaimedApprovalDelivery } from './approval-webhooks.ts';
export type { ClaimedWebhookDelivery, RevocationWebhookRecord, RevocationWebhookRecords, WebhookDeliveryRecord, WebhookDeliveryStatus } from './revocation-webhooks.ts';
export type { ActionTokenUseRecord, ActionTokenUseRecords, ToolPolicyRecord, ToolPolicyRecords } from './action-approvals.ts';

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
