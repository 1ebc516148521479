import { AuthorizationDenied, AuthorizationIssuerMismatch, AuthorizationResponseInvalid, AuthorizationStateMismatch } from '../errors.ts';
import type { PendingAuthorization, PendingAuthorizations } from './authorization-request.ts';

/** A verified authorization response: the code, and what redeeming it needs from the request that asked for it. */
export interface AuthorizationResponse extends Omit<PendingAuthorization, 'expiresAtMs' | 'issParameterSupported'> {
  /** The authorization code (RFC 6749 §4.1.2); single use, short-lived. */
  code: string;
}

/** Response parameters that may appear at most once (RFC 6749 §3.1). */
const SINGLE = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri'];

/**
 * Checks an authorization response (the redirect to the client, RFC 6749 §4.1.2) in this order:
 * 1. `state` names a pending request of this client (single use, constant-time, unexpired), else
 *    `ERR_AUTHORIZATION_STATE_MISMATCH` and nothing else is looked at (RFC 9700 §4.7);
 * 2. RFC 9207 `iss`, per MCP-C-07: the AS advertised `authorization_response_iss_parameter_supported` and `iss` is
 *    absent → reject; `iss` present → it must equal the recorded issuer by simple string comparison (after the
 *    query's form-decoding; no case folding, port, slash or percent normalisation), else
 *    `ERR_AUTHORIZATION_ISSUER_MISMATCH`; neither → proceed. An `error` of a response that fails here is ignored,
 *    never shown: it may come from the wrong AS;
 * 3. an `error` → `ERR_AUTHORIZATION_DENIED` (RFC 6749 §4.1.2.1);
 * 4. exactly one `code`.
 * The pending request is used up from step 2 on: whatever happens, its code is never redeemed twice.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export function verifyAuthorizationResponse(callback: URL, pending: PendingAuthorizations): AuthorizationResponse {
  const params = callback.searchParams;
  const states = params.getAll('state');
  const request = states.length === 1 ? pending.take(states[0]!) : undefined;
  if (request === undefined) throw new AuthorizationStateMismatch();

  for (const name of SINGLE) {
    if (params.getAll(name).length > 1) throw new AuthorizationResponseInvalid(`the authorization response repeats ${name}`);
  }
  const iss = params.get('iss') ?? undefined;
  if (iss === undefined ? request.issParameterSupported : iss !== request.issuer) throw new AuthorizationIssuerMismatch(request.issuer, iss);

  const error = params.get('error');
  if (error !== null) throw new AuthorizationDenied(error, params.get('error_description') ?? undefined);
  const code = params.get('code');
  if (code === null || code === '') throw new AuthorizationResponseInvalid('the authorization response has no code');

  const { expiresAtMs: _expires, issParameterSupported: _iss, ...rest } = request;
  return { ...rest, code };
}
