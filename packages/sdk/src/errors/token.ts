/** Errors of verifying an access token (RFC 9068 §4, RFC 6750 §3.1): its form, signature, claims and scopes. */

import { MandateError } from './base.ts';

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

/**
 * Introspection (RFC 7662 §2.2) answered `active: false` (revoked, disabled agent, or not meant for this resource), or
 * the revocation events the resource subscribed to name the token (or can no longer vouch for it, see `RevocationState`).
 */
export class TokenInactive extends MandateError {
  declare readonly code: 'ERR_TOKEN_INACTIVE';
  constructor(message = 'the token is not active') {
    super('ERR_TOKEN_INACTIVE', message);
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
