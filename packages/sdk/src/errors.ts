/**
 * The SDK's errors, shaped like jose's (`JOSEError`, `JOSEErrorCode`, `AnyJOSEError`): one base class with a stable
 * `code`, one subclass per failure, and a discriminated union so that `switch (err.code)` narrows the type.
 *
 * Error codes are public API: add new ones, never rename one. A caller's misuse (a bad option) is a `TypeError`;
 * untrusted input that fails a check (a token, a metadata document, a server's answer) is a `MandateError`.
 *
 * Longer than the usual 400 lines on purpose: every code of the public API is listed in this one file.
 */

import type { DpopProofFailure as ProtocolProofFailure } from '@mandate/protocol';

export type MandateErrorCode =
  | 'ERR_TOKEN_MISSING'
  | 'ERR_REQUEST_INVALID'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_JWS_ALG_NOT_ALLOWED'
  | 'ERR_TOKEN_TYPE_INVALID'
  | 'ERR_JWS_SIGNATURE_INVALID'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_FETCH_FAILED'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_AUDIENCE_MISMATCH'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_CLAIM_INVALID'
  | 'ERR_TOKEN_SENDER_CONSTRAINED'
  | 'ERR_TOKEN_INACTIVE'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_INTROSPECTION_FAILED'
  | 'ERR_METADATA_FETCH_FAILED'
  | 'ERR_METADATA_ISSUER_MISMATCH'
  | 'ERR_METADATA_INVALID'
  | 'ERR_TOKEN_REQUEST_FAILED'
  | 'ERR_AUTHORIZATION_STATE_MISMATCH'
  | 'ERR_AUTHORIZATION_ISSUER_MISMATCH'
  | 'ERR_AUTHORIZATION_DENIED'
  | 'ERR_AUTHORIZATION_RESPONSE_INVALID'
  | 'ERR_AUTHORIZATION_TIMEOUT'
  | 'ERR_ID_TOKEN_INVALID'
  | 'ERR_REVOCATION_FAILED'
  | 'ERR_TOKEN_STORE_INSECURE'
  | 'ERR_TOKEN_STORE_MALFORMED'
  | 'ERR_TOKEN_STORE_LOCKED'
  | 'ERR_INTROSPECTION_UNAUTHORIZED'
  | 'ERR_RESOURCE_MISMATCH'
  | 'ERR_REGISTRATION_FAILED'
  | 'ERR_CLIENT_UNIDENTIFIED'
  | 'ERR_AUTHORIZATION_LIMIT'
  | 'ERR_DPOP_PROOF_INVALID'
  | 'ERR_DPOP_NONCE_REQUIRED'
  | 'ERR_TOKEN_NOT_DPOP_BOUND'
  | 'ERR_DELEGATION_TOO_DEEP'
  | 'ERR_DELEGATION_NO_HUMAN_ROOT'
  | 'ERR_DELEGATION_ACTOR_NOT_ALLOWED'
  | 'ERR_DELEGATION_NOT_ALLOWED'
  | 'ERR_REVOCATION_WEBHOOK_INVALID'
  | 'ERR_APPROVAL_WEBHOOK_INVALID'
  | 'ERR_ADMIN_REQUEST_FAILED'
  | 'ERR_ACTION_NOT_APPROVED'
  | 'ERR_ACTION_TOKEN_USED'
  | 'ERR_ACTION_USE_FAILED';

/** Base class of every error the SDK throws for untrusted input. */
export class MandateError extends Error {
  /** A stable, machine-readable identifier of the failure. */
  readonly code: MandateErrorCode;
  constructor(code: MandateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** No access token was presented (RFC 6750 §3.1: the challenge then carries no `error`). */
export class TokenMissing extends MandateError {
  declare readonly code: 'ERR_TOKEN_MISSING';
  constructor(message = 'no access token was presented') {
    super('ERR_TOKEN_MISSING', message);
  }
}

/** The request is malformed: a repeated `Authorization` header, or a token sent by more than one method (RFC 6750 §3.1 `invalid_request`). */
export class InvalidRequest extends MandateError {
  declare readonly code: 'ERR_REQUEST_INVALID';
  constructor(message: string) {
    super('ERR_REQUEST_INVALID', message);
  }
}

/** The token is not a well-formed compact JWS carrying a JSON claims set. */
export class TokenMalformed extends MandateError {
  declare readonly code: 'ERR_TOKEN_MALFORMED';
  constructor(message: string) {
    super('ERR_TOKEN_MALFORMED', message);
  }
}

/** The JWS `alg` is not one of the asymmetric algorithms the verifier was configured for (includes `none` and HS*). */
export class AlgorithmNotAllowed extends MandateError {
  declare readonly code: 'ERR_JWS_ALG_NOT_ALLOWED';
  readonly alg: unknown;
  constructor(alg: unknown) {
    super('ERR_JWS_ALG_NOT_ALLOWED', `JWS algorithm ${JSON.stringify(alg)} is not allowed`);
    this.alg = alg;
  }
}

/** The JOSE header `typ` is not the one expected: `at+jwt` (RFC 9068 §4), or `txntoken+jwt` for a Txn-Token. */
export class TokenTypeInvalid extends MandateError {
  declare readonly code: 'ERR_TOKEN_TYPE_INVALID';
  readonly typ: unknown;
  constructor(typ: unknown, expected = 'at+jwt') {
    super('ERR_TOKEN_TYPE_INVALID', `token typ ${JSON.stringify(typ)} is not ${expected}`);
    this.typ = typ;
  }
}

/** The signature does not verify with the key named by `kid`. */
export class SignatureInvalid extends MandateError {
  declare readonly code: 'ERR_JWS_SIGNATURE_INVALID';
  constructor() {
    super('ERR_JWS_SIGNATURE_INVALID', 'signature verification failed');
  }
}

/** No key in the issuer's JWKS matches the token's `kid` and `alg`, even after a refetch. */
export class NoMatchingKey extends MandateError {
  declare readonly code: 'ERR_JWKS_NO_MATCHING_KEY';
  readonly kid: unknown;
  constructor(kid: unknown, message = `no key in the JWKS matches kid ${JSON.stringify(kid)}`) {
    super('ERR_JWKS_NO_MATCHING_KEY', message);
    this.kid = kid;
  }
}

/** The JWKS could not be fetched or is not a valid JWK Set. */
export class JwksFetchFailed extends MandateError {
  declare readonly code: 'ERR_JWKS_FETCH_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_JWKS_FETCH_FAILED', message, options);
  }
}

/** Why a claim failed, as in jose's `JWTClaimValidationFailed`. */
export type ClaimFailureReason = 'missing' | 'invalid' | 'check_failed' | 'mismatch';

/** Common shape of the claim errors: the claim that failed and why. */
export interface ClaimFailure {
  readonly claim: string;
  readonly reason: ClaimFailureReason;
}

/** `exp` is in the past, beyond the allowed clock skew. */
export class TokenExpired extends MandateError implements ClaimFailure {
  declare readonly code: 'ERR_TOKEN_EXPIRED';
  readonly claim = 'exp';
  readonly reason = 'check_failed';
  constructor() {
    super('ERR_TOKEN_EXPIRED', 'the token has expired');
  }
}

/** `nbf` (or `iat`) is in the future, beyond the allowed clock skew. */
export class TokenNotYetValid extends MandateError implements ClaimFailure {
  declare readonly code: 'ERR_TOKEN_NOT_YET_VALID';
  readonly claim: 'nbf' | 'iat';
  readonly reason = 'check_failed';
  constructor(claim: 'nbf' | 'iat') {
    super('ERR_TOKEN_NOT_YET_VALID', `the token is not valid yet (${claim})`);
    this.claim = claim;
  }
}

/** `aud` does not contain this resource's identifier (RFC 9068 §4, RFC 8707). */
export class AudienceMismatch extends MandateError implements ClaimFailure {
  declare readonly code: 'ERR_AUDIENCE_MISMATCH';
  readonly claim = 'aud';
  readonly reason = 'mismatch';
  constructor() {
    super('ERR_AUDIENCE_MISMATCH', 'the token was not issued for this resource');
  }
}

/** `iss` is not the configured issuer (RFC 9068 §4). */
export class IssuerMismatch extends MandateError implements ClaimFailure {
  declare readonly code: 'ERR_ISSUER_MISMATCH';
  readonly claim = 'iss';
  readonly reason = 'mismatch';
  constructor() {
    super('ERR_ISSUER_MISMATCH', 'the token was not issued by the expected issuer');
  }
}

/** A required claim is missing or has the wrong type (RFC 9068 §2.2). */
export class ClaimInvalid extends MandateError implements ClaimFailure {
  declare readonly code: 'ERR_CLAIM_INVALID';
  readonly claim: string;
  readonly reason: ClaimFailureReason;
  constructor(claim: string, reason: ClaimFailureReason) {
    super('ERR_CLAIM_INVALID', `claim ${JSON.stringify(claim)} is ${reason === 'missing' ? 'missing' : 'invalid'}`);
    this.claim = claim;
    this.reason = reason;
  }
}

/**
 * The token is sender-constrained (`cnf`, e.g. DPoP's `cnf.jkt`, RFC 9449 §6) but was presented as a plain bearer
 * token (RFC 9449 §7.2: a resource MUST refuse a DPoP-bound token sent as Bearer), or verified without the request
 * it came with, or bound by a method the SDK does not verify (a `cnf` without `jkt`).
 */
export class SenderConstrainedToken extends MandateError {
  declare readonly code: 'ERR_TOKEN_SENDER_CONSTRAINED';
  constructor() {
    super('ERR_TOKEN_SENDER_CONSTRAINED', 'a sender-constrained token cannot be used as a bearer token');
  }
}

/** Introspection (RFC 7662 §2.2) answered `active: false`: revoked, disabled agent, or not meant for this resource. */
export class TokenInactive extends MandateError {
  declare readonly code: 'ERR_TOKEN_INACTIVE';
  constructor() {
    super('ERR_TOKEN_INACTIVE', 'the token is not active');
  }
}

/** A revocation webhook delivery whose signature, time or body does not hold (`verifyRevocationWebhook`). */
export class RevocationWebhookInvalid extends MandateError {
  declare readonly code: 'ERR_REVOCATION_WEBHOOK_INVALID';
  constructor(reason: string) {
    super('ERR_REVOCATION_WEBHOOK_INVALID', `revocation webhook refused: ${reason}`);
  }
}

/** An approval webhook delivery whose signature, time or body does not hold (`verifyApprovalWebhook`). */
export class ApprovalWebhookInvalid extends MandateError {
  declare readonly code: 'ERR_APPROVAL_WEBHOOK_INVALID';
  constructor(reason: string) {
    super('ERR_APPROVAL_WEBHOOK_INVALID', `approval webhook refused: ${reason}`);
  }
}

/** The token is valid but lacks scopes the operation needs (RFC 6750 §3.1 `insufficient_scope`). */
export class InsufficientScope extends MandateError {
  declare readonly code: 'ERR_INSUFFICIENT_SCOPE';
  /** Every scope the operation needs (what the challenge's `scope` names). */
  readonly requiredScopes: readonly string[];
  /** The needed scopes the token does not have. */
  readonly missingScopes: readonly string[];
  /** The scopes the token has, so that a challenge can name them too (MCP: a client then keeps what it had). */
  readonly grantedScopes: readonly string[];
  constructor(requiredScopes: readonly string[], missingScopes: readonly string[], grantedScopes: readonly string[] = []) {
    super('ERR_INSUFFICIENT_SCOPE', `missing scope: ${missingScopes.join(' ')}`);
    this.requiredScopes = requiredScopes;
    this.missingScopes = missingScopes;
    this.grantedScopes = grantedScopes;
  }
}

/**
 * A tool call that needs a per-action approval (issue 12 item 4) came with a token that approves no such call: none
 * at all, another tool, other arguments or another server. `authorizationDetails` is what to ask approval for
 * (RFC 9396 `mcp_tool`), so that the caller can ask and retry.
 */
export class ActionNotApproved extends MandateError {
  declare readonly code: 'ERR_ACTION_NOT_APPROVED';
  readonly tool: string;
  readonly argumentsSha256: string;
  readonly authorizationDetails: { type: 'mcp_tool'; tool: string; arguments_sha256: string; locations: string[] }[];
  constructor(message: string, detail: { tool: string; argumentsSha256: string; resource: string | undefined }) {
    super('ERR_ACTION_NOT_APPROVED', message);
    this.tool = detail.tool;
    this.argumentsSha256 = detail.argumentsSha256;
    this.authorizationDetails = [{ type: 'mcp_tool', tool: detail.tool, arguments_sha256: detail.argumentsSha256, locations: detail.resource === undefined ? [] : [detail.resource] }];
  }
}

/** A single-use action token was used before (the authorization server recorded its first use, on any instance). */
export class ActionTokenUsed extends MandateError {
  declare readonly code: 'ERR_ACTION_TOKEN_USED';
  constructor(message = 'the single-use action token was already used') {
    super('ERR_ACTION_TOKEN_USED', message);
  }
}

/** The use of an action token could not be recorded at the authorization server (unreachable, or a bad answer): the call is refused. */
export class ActionUseFailed extends MandateError {
  declare readonly code: 'ERR_ACTION_USE_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ACTION_USE_FAILED', message, options);
  }
}

/** The introspection endpoint could not be reached or answered with something other than an RFC 7662 response. */
export class IntrospectionFailed extends MandateError {
  declare readonly code: 'ERR_INTROSPECTION_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INTROSPECTION_FAILED', message, options);
  }
}

/** The authorization server metadata (RFC 8414) could not be fetched or parsed. */
export class MetadataFetchFailed extends MandateError {
  declare readonly code: 'ERR_METADATA_FETCH_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_METADATA_FETCH_FAILED', message, options);
  }
}

/** The metadata's `issuer` is not identical to the configured issuer, so it must not be used (RFC 8414 §3.3). */
export class MetadataIssuerMismatch extends MandateError {
  declare readonly code: 'ERR_METADATA_ISSUER_MISMATCH';
  readonly expected: string;
  readonly received: unknown;
  constructor(expected: string, received: unknown) {
    super('ERR_METADATA_ISSUER_MISMATCH', `metadata issuer ${JSON.stringify(received)} is not ${JSON.stringify(expected)}`);
    this.expected = expected;
    this.received = received;
  }
}

/** The metadata lacks a member the operation needs (e.g. `jwks_uri`, `token_endpoint`) or has one of the wrong type. */
export class MetadataInvalid extends MandateError {
  declare readonly code: 'ERR_METADATA_INVALID';
  readonly member: string;
  constructor(member: string) {
    super('ERR_METADATA_INVALID', `metadata member ${JSON.stringify(member)} is missing or invalid`);
    this.member = member;
  }
}

/** The token endpoint refused a request (RFC 6749 §5.2) or answered with something that is not a token response. */
export class TokenRequestFailed extends MandateError {
  declare readonly code: 'ERR_TOKEN_REQUEST_FAILED';
  /** HTTP status of the token endpoint's answer (0 when it could not be reached). */
  readonly status: number;
  /** RFC 6749 §5.2 `error`, when the server sent one. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  constructor(message: string, init: { status: number; error?: string; errorDescription?: string; cause?: unknown }) {
    super('ERR_TOKEN_REQUEST_FAILED', message, { cause: init.cause });
    this.status = init.status;
    this.error = init.error;
    this.errorDescription = init.errorDescription;
  }
}

/**
 * An authorization response whose `state` matches no pending authorization request of this client (RFC 6749
 * §10.12, RFC 9700 §4.7): forged, replayed, expired, or meant for another client. Nothing in it is acted upon.
 */
export class AuthorizationStateMismatch extends MandateError {
  declare readonly code: 'ERR_AUTHORIZATION_STATE_MISMATCH';
  constructor(message = 'the authorization response matches no pending authorization request (state)') {
    super('ERR_AUTHORIZATION_STATE_MISMATCH', message);
  }
}

/**
 * The authorization response's `iss` is not the issuer the request was sent to, or is missing although the AS
 * advertises `authorization_response_iss_parameter_supported` (RFC 9207 §2.4, MCP-C-07): a possible mix-up attack.
 * The code is never redeemed and an `error` in the response is neither acted on nor shown.
 */
export class AuthorizationIssuerMismatch extends MandateError {
  declare readonly code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH';
  readonly expected: string;
  /** The `iss` received; undefined when it was missing. */
  readonly received: string | undefined;
  readonly reason: 'missing' | 'mismatch';
  constructor(expected: string, received: string | undefined) {
    super(
      'ERR_AUTHORIZATION_ISSUER_MISMATCH',
      received === undefined ? `the authorization response has no iss (expected ${JSON.stringify(expected)})` : `the authorization response comes from ${JSON.stringify(received)}, not ${JSON.stringify(expected)}`,
    );
    this.expected = expected;
    this.received = received;
    this.reason = received === undefined ? 'missing' : 'mismatch';
  }
}

/**
 * The authorization server answered the authorization request with an error (RFC 6749 §4.1.2.1), after `state`
 * and `iss` were verified: `access_denied` when the user declined, or `invalid_scope`, `invalid_target`,
 * `invalid_request`, … when the AS refused the request.
 */
export class AuthorizationDenied extends MandateError {
  declare readonly code: 'ERR_AUTHORIZATION_DENIED';
  /** RFC 6749 §4.1.2.1 `error`. */
  readonly error: string;
  readonly errorDescription: string | undefined;
  constructor(error: string, errorDescription: string | undefined) {
    super('ERR_AUTHORIZATION_DENIED', `the authorization request was refused: ${error}${errorDescription === undefined ? '' : ` (${errorDescription})`}`);
    this.error = error;
    this.errorDescription = errorDescription;
  }
}

/** The authorization response is malformed: no `code`, or a parameter repeated (RFC 6749 §3.1, §4.1.2). */
export class AuthorizationResponseInvalid extends MandateError {
  declare readonly code: 'ERR_AUTHORIZATION_RESPONSE_INVALID';
  constructor(message: string) {
    super('ERR_AUTHORIZATION_RESPONSE_INVALID', message);
  }
}

/** No valid authorization response reached the loopback redirect URI in time (RFC 8252 §7.3). */
export class AuthorizationTimeout extends MandateError {
  declare readonly code: 'ERR_AUTHORIZATION_TIMEOUT';
  constructor(timeoutMs: number) {
    super('ERR_AUTHORIZATION_TIMEOUT', `no authorization response arrived within ${Math.round(timeoutMs / 1000)} s`);
  }
}

/** Why an ID token was refused. */
export type IdTokenFailureReason = 'missing' | 'signature' | 'claims' | 'nonce' | 'subject';

/**
 * The ID token of a token response failed validation (OpenID Connect Core §3.1.3.7): missing although `openid`
 * was granted, a bad signature or `alg`, wrong `iss`/`aud`/`azp`, expired, a `nonce` that is not the request's,
 * or (on refresh, §12.2) a different `sub`. The tokens of that response are not used.
 */
export class IdTokenInvalid extends MandateError {
  declare readonly code: 'ERR_ID_TOKEN_INVALID';
  readonly reason: IdTokenFailureReason;
  constructor(reason: IdTokenFailureReason, message: string, options?: { cause?: unknown }) {
    super('ERR_ID_TOKEN_INVALID', message, options);
    this.reason = reason;
  }
}

/** The revocation endpoint refused a request (RFC 7009 §2.2.1: `unsupported_token_type`, or an RFC 6749 §5.2 error). */
export class RevocationFailed extends MandateError {
  declare readonly code: 'ERR_REVOCATION_FAILED';
  /** HTTP status of the answer (0 when the endpoint could not be reached). */
  readonly status: number;
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  constructor(message: string, init: { status: number; error?: string; errorDescription?: string; cause?: unknown }) {
    super('ERR_REVOCATION_FAILED', message, { cause: init.cause });
    this.status = init.status;
    this.error = init.error;
    this.errorDescription = init.errorDescription;
  }
}

/**
 * A token store file that others could read or replace: not a regular file, not owned by this user, or readable or
 * writable by group or others. It is refused rather than used, since it holds refresh tokens.
 */
export class TokenStoreInsecure extends MandateError {
  declare readonly code: 'ERR_TOKEN_STORE_INSECURE';
  readonly path: string;
  constructor(path: string, problem: string) {
    super('ERR_TOKEN_STORE_INSECURE', `token store ${path} ${problem}`);
    this.path = path;
  }
}

/** A token store file that is not the JSON document the store writes. */
export class TokenStoreMalformed extends MandateError {
  declare readonly code: 'ERR_TOKEN_STORE_MALFORMED';
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super('ERR_TOKEN_STORE_MALFORMED', `token store ${path} is not a valid token store file`, options);
    this.path = path;
  }
}

/** Another writer held the token store's lock file longer than `lockTimeoutMs` (and it is not stale). */
export class TokenStoreLocked extends MandateError {
  declare readonly code: 'ERR_TOKEN_STORE_LOCKED';
  readonly path: string;
  readonly lockPath: string;
  constructor(path: string, lockPath: string) {
    super('ERR_TOKEN_STORE_LOCKED', `token store ${path} is locked by another writer (${lockPath})`);
    this.path = path;
    this.lockPath = lockPath;
  }
}

/**
 * The introspection endpoint refused the resource's own credentials (RFC 7662 §2.1 requires the caller to
 * authenticate; 401 or 403): a wrong or revoked API key or client secret. Not an outage: retrying will not help
 * until the resource's configuration is fixed.
 */
export class IntrospectionUnauthorized extends MandateError {
  declare readonly code: 'ERR_INTROSPECTION_UNAUTHORIZED';
  /** HTTP status of the answer (401 or 403). */
  readonly status: number;
  /** RFC 6749 §5.2 `error` of the answer, when it had one (`invalid_client`). */
  readonly error: string | undefined;
  constructor(endpoint: string, status: number, error: string | undefined) {
    super('ERR_INTROSPECTION_UNAUTHORIZED', `${endpoint} refused the resource's credentials (${status}${error === undefined ? '' : ` ${error}`})`);
    this.status = status;
    this.error = error;
  }
}

/**
 * Protected resource metadata whose `resource` is not the resource the client asked about (RFC 9728 §3.3: the
 * metadata MUST NOT be used). An attacker's server could otherwise send the client, and its tokens, elsewhere.
 */
export class ResourceMismatch extends MandateError {
  declare readonly code: 'ERR_RESOURCE_MISMATCH';
  readonly expected: readonly string[];
  readonly received: unknown;
  constructor(expected: readonly string[], received: unknown) {
    super('ERR_RESOURCE_MISMATCH', `protected resource metadata names resource ${JSON.stringify(received)}, not ${expected.map((e) => JSON.stringify(e)).join(' or ')}`);
    this.expected = expected;
    this.received = received;
  }
}

/** Dynamic client registration (RFC 7591 §3.2.2) was refused, or answered with something that is not a registration. */
export class RegistrationFailed extends MandateError {
  declare readonly code: 'ERR_REGISTRATION_FAILED';
  /** HTTP status of the answer (0 when the endpoint could not be reached). */
  readonly status: number;
  /** RFC 7591 §3.2.2 `error` (`invalid_redirect_uri`, `invalid_client_metadata`, …), when the server sent one. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  constructor(message: string, init: { status: number; error?: string; errorDescription?: string; cause?: unknown }) {
    super('ERR_REGISTRATION_FAILED', message, { cause: init.cause });
    this.status = init.status;
    this.error = init.error;
    this.errorDescription = init.errorDescription;
  }
}

/**
 * The client has no way to identify itself to this authorization server: no pre-registered credentials for it, no
 * Client ID Metadata Document it accepts, and no registration endpoint (MCP authorization, "Client Registration
 * Approaches"). An operator has to register the client.
 */
export class ClientUnidentified extends MandateError {
  declare readonly code: 'ERR_CLIENT_UNIDENTIFIED';
  readonly issuer: string;
  constructor(issuer: string) {
    super('ERR_CLIENT_UNIDENTIFIED', `no client registration for ${issuer}: it supports neither Client ID Metadata Documents (or none is configured) nor dynamic registration; register the client there and pass its client_id`);
    this.issuer = issuer;
  }
}

/**
 * More authorizations were started in a row than allowed without one of them leading to a successful call (MCP
 * authorization, "Step-Up Authorization Flow": retry limits). The server keeps asking for something the
 * authorization server does not grant.
 */
export class AuthorizationLimit extends MandateError {
  declare readonly code: 'ERR_AUTHORIZATION_LIMIT';
  readonly attempts: number;
  constructor(attempts: number) {
    super('ERR_AUTHORIZATION_LIMIT', `gave up after ${attempts} authorizations in a row that did not lead to a successful call`);
    this.attempts = attempts;
  }
}

/** Why a DPoP proof was refused (RFC 9449 §4.3), as `@mandate/protocol` names it, plus `replayed` and `missing`. */
export type DpopProofFailure = ProtocolProofFailure | 'replayed' | 'missing';

/**
 * A DPoP proof (RFC 9449 §4.3) is missing, malformed, for another request, too old, replayed, or not made with the
 * token's key or for the token (`ath`). Answered with 401 and `WWW-Authenticate: DPoP error="invalid_dpop_proof"`.
 */
export class DpopProofInvalid extends MandateError {
  declare readonly code: 'ERR_DPOP_PROOF_INVALID';
  readonly failure: DpopProofFailure;
  constructor(failure: DpopProofFailure, message: string) {
    super('ERR_DPOP_PROOF_INVALID', message);
    this.failure = failure;
  }
}

/**
 * The resource requires a server nonce in DPoP proofs (RFC 9449 §9) and the proof had none, or an old one. Answered
 * with 401, `WWW-Authenticate: DPoP error="use_dpop_nonce"` and the `DPoP-Nonce` to retry with.
 */
export class DpopNonceRequired extends MandateError {
  declare readonly code: 'ERR_DPOP_NONCE_REQUIRED';
  /** The nonce the client should put in its next proof. */
  readonly nonce: string;
  constructor(nonce: string, message = 'the DPoP proof must carry the server nonce') {
    super('ERR_DPOP_NONCE_REQUIRED', message);
    this.nonce = nonce;
  }
}

/**
 * The token is not DPoP-bound (it has no `cnf.jkt`) but was sent with the `DPoP` scheme (RFC 9449 §7.1 binds the
 * scheme to the token), or the resource accepts only DPoP-bound tokens (`required`, RFC 9728
 * `dpop_bound_access_tokens_required`).
 */
export class TokenNotDpopBound extends MandateError {
  declare readonly code: 'ERR_TOKEN_NOT_DPOP_BOUND';
  /** True when the resource requires DPoP-bound tokens; false when only the scheme was wrong. */
  readonly required: boolean;
  constructor(required = false) {
    super('ERR_TOKEN_NOT_DPOP_BOUND', required ? 'this resource accepts only DPoP-bound tokens' : 'the token is not DPoP-bound; send it with the Bearer scheme');
    this.required = required;
  }
}

/** The token's `act` chain holds more actors than the resource's delegation policy allows (`maxDepth`). */
export class DelegationTooDeep extends MandateError {
  declare readonly code: 'ERR_DELEGATION_TOO_DEEP';
  readonly depth: number;
  readonly maxDepth: number;
  constructor(depth: number, maxDepth: number) {
    super('ERR_DELEGATION_TOO_DEEP', `the delegation chain has ${depth} actors; at most ${maxDepth} are allowed`);
    this.depth = depth;
    this.maxDepth = maxDepth;
  }
}

/** The policy requires a person at the root of the chain (`requireHumanRoot`) and the subject is an agent or a client. */
export class DelegationWithoutHumanRoot extends MandateError {
  declare readonly code: 'ERR_DELEGATION_NO_HUMAN_ROOT';
  readonly subject: string;
  constructor(subject: string) {
    super('ERR_DELEGATION_NO_HUMAN_ROOT', `the chain's subject ${subject} is not a person`);
    this.subject = subject;
  }
}

/** An actor of the chain is not among the policy's `allowedActors`. */
export class DelegationActorNotAllowed extends MandateError {
  declare readonly code: 'ERR_DELEGATION_ACTOR_NOT_ALLOWED';
  readonly actor: string;
  constructor(actor: string) {
    super('ERR_DELEGATION_ACTOR_NOT_ALLOWED', `actor ${actor} is not allowed`);
    this.actor = actor;
  }
}

/** One actor passed the token to another that the policy's `allowedDelegations` does not allow it. */
export class DelegationNotAllowed extends MandateError {
  declare readonly code: 'ERR_DELEGATION_NOT_ALLOWED';
  readonly from: string;
  readonly to: string;
  constructor(from: string, to: string) {
    super('ERR_DELEGATION_NOT_ALLOWED', `${from} may not delegate to ${to}`);
    this.from = from;
    this.to = to;
  }
}

/**
 * The admin API refused a request (an RFC 9457 problem) or could not be reached (status 0). `problem` is the kind
 * of problem (`not-found`, `invalid-request`, `conflict`, `unauthorized`, `forbidden`, `too-large` …), `errors`
 * the field errors of an `invalid-request`.
 */
export class AdminRequestFailed extends MandateError {
  declare readonly code: 'ERR_ADMIN_REQUEST_FAILED';
  readonly status: number;
  readonly problem: string | undefined;
  readonly detail: string | undefined;
  readonly errors: { path: string; message: string }[] | undefined;
  constructor(message: string, init: { status: number; problem?: string; detail?: string; errors?: { path: string; message: string }[]; cause?: unknown }) {
    super('ERR_ADMIN_REQUEST_FAILED', message, { cause: init.cause });
    this.status = init.status;
    this.problem = init.problem;
    this.detail = init.detail;
    this.errors = init.errors;
  }
}

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
  | ActionNotApproved
  | ActionTokenUsed
  | ActionUseFailed;

/** True when `err` is one of the SDK's coded errors (token checks of RFC 9068 §4, RFC 6750 §3.1); narrows to {@link AnyMandateError}. */
export function isMandateError(err: unknown): err is AnyMandateError {
  return err instanceof MandateError;
}
