import { TokenRequestFailed } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import type { DpopProver } from '../dpop/prover.ts';
import type { AuthenticationTarget, ClientAuthentication } from './client-authentication.ts';

/** What every token request of a client is sent with: HTTP options, its clock and, for DPoP, its prover. */
export type TokenRequestOptions = HttpOptions & {
  clock: () => number;
  /** Makes every token request a DPoP request (RFC 9449 §5), with one retry on `use_dpop_nonce` (§8). */
  dpop?: DpopProver;
};

/** A successful token response (RFC 6749 §5.1), camelCased, with `expiresAt` computed when `expires_in` was given. */
export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  /** Seconds since the epoch; undefined when the server did not say (`expires_in` is only RECOMMENDED). */
  expiresAt?: number;
  /** The granted scope when the server stated it (RFC 6749 §5.1: it must when it differs from the request). */
  scope?: string;
  refreshToken?: string;
  /** RFC 8693 §2.2.1 `issued_token_type`, for token exchange. */
  issuedTokenType?: string;
  /** The whole JSON response, for members this type does not name. */
  raw: Record<string, unknown>;
}

/**
 * POSTs a grant to the token endpoint (RFC 6749 §3.2) with client authentication and parses the answer: a token
 * response (§5.1) or an error response (§5.2, thrown as {@link TokenRequestFailed} with `error` and status).
 * Every grant the SDK sends (client credentials, authorization code, refresh token, token exchange) goes through here.
 * With a DPoP prover the request carries a proof, and an AS that answers `use_dpop_nonce` with a new `DPoP-Nonce`
 * gets the request once more with it (client authentication is redone, so a `private_key_jwt` assertion is fresh).
 */
export async function requestToken(
  target: AuthenticationTarget,
  form: URLSearchParams,
  authenticate: ClientAuthentication,
  options: TokenRequestOptions,
): Promise<TokenResponse> {
  const send = async () => {
    const body = new URLSearchParams(form);
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    await authenticate(body, headers, target);
    if (options.dpop !== undefined) headers.set('dpop', options.dpop.proof('POST', target.endpoint));
    try {
      return await fetchJson(target.endpoint, { method: 'POST', headers, body: body.toString() }, options);
    } catch (cause) {
      throw new TokenRequestFailed(`could not reach ${target.endpoint}`, { status: 0, cause });
    }
  };
  let answer = await send();
  if (options.dpop !== undefined && options.dpop.rememberNonce(target.endpoint, answer.headers)) {
    if (answer.status === 400 && isJsonObject(answer.json) && answer.json.error === 'use_dpop_nonce') answer = await send();
  }
  const body = answer.json;
  if (answer.status !== 200) {
    const error = isJsonObject(body) && typeof body.error === 'string' ? body.error : undefined;
    const errorDescription = isJsonObject(body) && typeof body.error_description === 'string' ? body.error_description : undefined;
    throw new TokenRequestFailed(`the token endpoint answered ${answer.status}${error === undefined ? '' : ` ${error}`}`, {
      status: answer.status,
      ...(error === undefined ? {} : { error }),
      ...(errorDescription === undefined ? {} : { errorDescription }),
    });
  }
  if (!isJsonObject(body) || typeof body.access_token !== 'string' || body.access_token === '' || typeof body.token_type !== 'string') {
    throw new TokenRequestFailed('the token endpoint answered without access_token and token_type', { status: answer.status });
  }
  const response: TokenResponse = { accessToken: body.access_token, tokenType: body.token_type, raw: body };
  if (typeof body.expires_in === 'number' && Number.isFinite(body.expires_in) && body.expires_in > 0) {
    response.expiresAt = Math.floor(options.clock() / 1000) + body.expires_in;
  }
  if (typeof body.scope === 'string') response.scope = body.scope;
  if (typeof body.refresh_token === 'string') response.refreshToken = body.refresh_token;
  if (typeof body.issued_token_type === 'string') response.issuedTokenType = body.issued_token_type;
  return response;
}
