/** Errors of learning whether a token is still alive: introspection (RFC 7662) and revocation webhooks. */

import { MandateError } from './base.ts';

/** The introspection endpoint could not be reached or answered with something other than an RFC 7662 response. */
export class IntrospectionFailed extends MandateError {
  declare readonly code: 'ERR_INTROSPECTION_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INTROSPECTION_FAILED', message, options);
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

/** A revocation webhook delivery whose signature, time or body does not hold (`verifyRevocationWebhook`). */
export class RevocationWebhookInvalid extends MandateError {
  declare readonly code: 'ERR_REVOCATION_WEBHOOK_INVALID';
  constructor(reason: string) {
    super('ERR_REVOCATION_WEBHOOK_INVALID', `revocation webhook refused: ${reason}`);
  }
}
