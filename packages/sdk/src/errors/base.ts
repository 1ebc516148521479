/**
 * The base of the SDK's errors, shaped like jose's `JOSEError`: one class with a stable `code`; each failure is
 * a subclass in the module of its concern (`token.ts`, `dpop.ts`, …), and `../errors.ts` gathers them.
 *
 * Error codes are public API: add new ones, never rename one.
 */

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
