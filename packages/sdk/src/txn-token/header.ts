import { TXN_TOKEN_HEADER } from '@mandate/protocol';
import { InvalidRequest, MandateError, TokenMissing } from '../errors.ts';
import type { AnyMandateError } from '../errors.ts';
import type { HeaderSource } from '../challenge/extract-token.ts';
import type { TxnTokenContext, TxnTokenVerifier } from './verifier.ts';

/** Options of every `requireTxnToken` middleware. */
export interface TxnTokenGuardOptions {
  verifier: Pick<TxnTokenVerifier, 'verify'>;
  /** Scopes every request's Txn-Token must carry; otherwise 403 `insufficient_scope`. */
  requiredScopes?: readonly string[];
}

/**
 * A refusal of a request whose Txn-Token is missing or bad. A Txn-Token authenticates nobody (draft §9.13), so there
 * is no 401 and no `WWW-Authenticate` challenge: 400 for a missing or repeated header, 403 for a token that fails
 * a check or lacks a scope, 503 when the keys could not be fetched (the token was not judged).
 */
export interface TxnTokenRejection {
  status: 400 | 403 | 503;
  headers: Record<string, string>;
  body: { error: 'invalid_request' | 'invalid_txn_token' | 'insufficient_scope' | 'temporarily_unavailable'; error_description: string };
  /** The error behind the refusal, for logs. */
  cause: AnyMandateError;
}

export type TxnTokenOutcome = { ok: true; context: TxnTokenContext } | { ok: false; rejection: TxnTokenRejection };

/**
 * The one Txn-Token of a request (draft §7.1: the `Txn-Token` header carries exactly one token): {@link TokenMissing}
 * without the header, {@link InvalidRequest} when it is repeated or holds more than one value (TT-11).
 */
export function extractTxnToken(headers: HeaderSource): string {
  const value = headers.get(TXN_TOKEN_HEADER);
  if (value === null) throw new TokenMissing('no Txn-Token header was presented');
  // Fetch's Headers (and the node adapter) join repeated fields with ", "; a compact JWS never contains a comma.
  if (value.includes(',')) throw new InvalidRequest('more than one Txn-Token was presented');
  const token = value.trim();
  if (token === '' || /\s/.test(token)) throw new InvalidRequest('the Txn-Token header must hold exactly one token');
  return token;
}

/** Checks a guard's options once, at setup: misuse is a TypeError, never a 500 on the first request. */
export function checkTxnTokenGuardOptions(options: TxnTokenGuardOptions): void {
  if (typeof options !== 'object' || options === null || typeof options.verifier?.verify !== 'function') {
    throw new TypeError('options.verifier must be a verifier from createTxnTokenVerifier()');
  }
  const scopes = options.requiredScopes;
  if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string' && s !== ''))) {
    throw new TypeError('options.requiredScopes must be an array of scope strings');
  }
}

/** The HTTP refusal of an SDK error met while checking a Txn-Token. */
export function txnTokenRejectionFor(err: AnyMandateError): TxnTokenRejection {
  const reject = (status: TxnTokenRejection['status'], error: TxnTokenRejection['body']['error'], description = err.message): TxnTokenRejection => ({
    status,
    headers: { 'cache-control': 'no-store' },
    body: { error, error_description: description },
    cause: err,
  });
  switch (err.code) {
    case 'ERR_TOKEN_MISSING':
    case 'ERR_REQUEST_INVALID':
      return reject(400, 'invalid_request');
    case 'ERR_INSUFFICIENT_SCOPE':
      return reject(403, 'insufficient_scope');
    case 'ERR_JWKS_FETCH_FAILED':
    case 'ERR_METADATA_FETCH_FAILED':
    case 'ERR_METADATA_ISSUER_MISMATCH':
    case 'ERR_METADATA_INVALID': {
      // The cause is for logs: the caller learns nothing about this workload's configuration.
      const rejection = reject(503, 'temporarily_unavailable', 'the Txn-Token could not be checked');
      rejection.headers['retry-after'] = '5';
      return rejection;
    }
    default:
      return reject(403, 'invalid_txn_token');
  }
}

/**
 * The web-standard core of every `requireTxnToken` middleware: finds the one `Txn-Token` header, verifies it, checks
 * the required scopes, and returns its context or a {@link TxnTokenRejection}. Errors that are not the SDK's (bugs)
 * are rethrown for the framework's error handling.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export async function authenticateTxnToken(headers: HeaderSource, options: TxnTokenGuardOptions): Promise<TxnTokenOutcome> {
  try {
    const token = extractTxnToken(headers);
    const verifyOptions = options.requiredScopes === undefined ? {} : { requiredScopes: options.requiredScopes };
    return { ok: true, context: await options.verifier.verify(token, verifyOptions) };
  } catch (err) {
    if (!(err instanceof MandateError)) throw err;
    return { ok: false, rejection: txnTokenRejectionFor(err as AnyMandateError) };
  }
}
