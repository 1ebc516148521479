/** Errors of getting tokens as a client: the token endpoint, the authorization response, ID tokens, registration, revocation. */

import { MandateError } from './base.ts';

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
