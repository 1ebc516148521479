/** Errors of DPoP presentation at a resource (RFC 9449 §7). */

import type { DpopProofFailure as ProtocolProofFailure } from '@mandate/protocol';
import { MandateError } from './base.ts';

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
