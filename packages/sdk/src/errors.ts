/**
 * The SDK's errors, shaped like jose's (`JOSEError`, `JOSEErrorCode`, `AnyJOSEError`): one base class with a stable
 * `code`, one subclass per failure, and a discriminated union so that `switch (err.code)` narrows the type. Each
 * concern has its module under `errors/` (token checks, token status, DPoP, delegation, actions, discovery, getting
 * tokens, the token store, admin); this file gathers them into the `@mandate/sdk/errors` entry point.
 *
 * Error codes are public API: add new ones, never rename one. A caller's misuse (a bad option) is a `TypeError`;
 * untrusted input that fails a check (a token, a metadata document, a server's answer) is a `MandateError`.
 */

export { MandateError } from './errors/base.ts';
export type { MandateErrorCode } from './errors/base.ts';
export { TokenMissing, InvalidRequest, TokenMalformed, AlgorithmNotAllowed, TokenTypeInvalid, SignatureInvalid, NoMatchingKey, JwksFetchFailed, TokenExpired, TokenNotYetValid, AudienceMismatch, IssuerMismatch, ClaimInvalid, SenderConstrainedToken, TokenInactive, InsufficientScope } from './errors/token.ts';
export type { ClaimFailureReason, ClaimFailure } from './errors/token.ts';
export { IntrospectionFailed, IntrospectionUnauthorized, RevocationWebhookInvalid } from './errors/token-status.ts';
export { DpopProofInvalid, DpopNonceRequired, TokenNotDpopBound } from './errors/dpop.ts';
export type { DpopProofFailure } from './errors/dpop.ts';
export { DelegationTooDeep, DelegationWithoutHumanRoot, DelegationActorNotAllowed, DelegationNotAllowed } from './errors/delegation.ts';
export { ActionNotApproved, ActionTokenUsed, ActionUseFailed } from './errors/action.ts';
export { MetadataFetchFailed, MetadataIssuerMismatch, MetadataInvalid, ResourceMismatch } from './errors/discovery.ts';
export { TokenRequestFailed, AuthorizationStateMismatch, AuthorizationIssuerMismatch, AuthorizationDenied, AuthorizationResponseInvalid, AuthorizationTimeout, IdTokenInvalid, RevocationFailed, RegistrationFailed, ClientUnidentified, AuthorizationLimit } from './errors/authorization.ts';
export type { IdTokenFailureReason } from './errors/authorization.ts';
export { TokenStoreInsecure, TokenStoreMalformed, TokenStoreLocked } from './errors/token-store.ts';
export { AdminRequestFailed, ApprovalWebhookInvalid } from './errors/admin.ts';

import { MandateError } from './errors/base.ts';
import type { TokenMissing, InvalidRequest, TokenMalformed, AlgorithmNotAllowed, TokenTypeInvalid, SignatureInvalid, NoMatchingKey, JwksFetchFailed, TokenExpired, TokenNotYetValid, AudienceMismatch, IssuerMismatch, ClaimInvalid, SenderConstrainedToken, TokenInactive, InsufficientScope } from './errors/token.ts';
import type { IntrospectionFailed, IntrospectionUnauthorized, RevocationWebhookInvalid } from './errors/token-status.ts';
import type { DpopProofInvalid, DpopNonceRequired, TokenNotDpopBound } from './errors/dpop.ts';
import type { DelegationTooDeep, DelegationWithoutHumanRoot, DelegationActorNotAllowed, DelegationNotAllowed } from './errors/delegation.ts';
import type { ActionNotApproved, ActionTokenUsed, ActionUseFailed } from './errors/action.ts';
import type { MetadataFetchFailed, MetadataIssuerMismatch, MetadataInvalid, ResourceMismatch } from './errors/discovery.ts';
import type { TokenRequestFailed, AuthorizationStateMismatch, AuthorizationIssuerMismatch, AuthorizationDenied, AuthorizationResponseInvalid, AuthorizationTimeout, IdTokenInvalid, RevocationFailed, RegistrationFailed, ClientUnidentified, AuthorizationLimit } from './errors/authorization.ts';
import type { TokenStoreInsecure, TokenStoreMalformed, TokenStoreLocked } from './errors/token-store.ts';
import type { AdminRequestFailed, ApprovalWebhookInvalid } from './errors/admin.ts';

/** Every SDK error, discriminated by `code`. */
export type AnyMandateError =
  | TokenMissing
  | InvalidRequest
  | TokenMalformed
  | AlgorithmNotAllowed
  | TokenTypeInvalid
  | SignatureInvalid
  | NoMatchingKey
  | JwksFetchFailed
  | TokenExpired
  | TokenNotYetValid
  | AudienceMismatch
  | IssuerMismatch
  | ClaimInvalid
  | SenderConstrainedToken
  | TokenInactive
  | RevocationWebhookInvalid
  | InsufficientScope
  | IntrospectionFailed
  | MetadataFetchFailed
  | MetadataIssuerMismatch
  | MetadataInvalid
  | TokenRequestFailed
  | AuthorizationStateMismatch
  | AuthorizationIssuerMismatch
  | AuthorizationDenied
  | AuthorizationResponseInvalid
  | AuthorizationTimeout
  | IdTokenInvalid
  | RevocationFailed
  | TokenStoreInsecure
  | TokenStoreMalformed
  | TokenStoreLocked
  | IntrospectionUnauthorized
  | ResourceMismatch
  | RegistrationFailed
  | ClientUnidentified
  | AuthorizationLimit
  | DpopProofInvalid
  | DpopNonceRequired
  | TokenNotDpopBound
  | DelegationTooDeep
  | DelegationWithoutHumanRoot
  | DelegationActorNotAllowed
  | DelegationNotAllowed
  | AdminRequestFailed
  | ApprovalWebhookInvalid
  | ActionNotApproved
  | ActionTokenUsed
  | ActionUseFailed;

/** True when `err` is one of the SDK's coded errors (token checks of RFC 9068 §4, RFC 6750 §3.1); narrows to {@link AnyMandateError}. */
export function isMandateError(err: unknown): err is AnyMandateError {
  return err instanceof MandateError;
}
