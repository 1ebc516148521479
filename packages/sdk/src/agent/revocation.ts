import { RevocationFailed } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import type { AuthenticationTarget, ClientAuthentication } from './client-authentication.ts';

/** RFC 7009 §2.1 `token_type_hint` values the SDK sends. */
export type TokenTypeHint = 'access_token' | 'refresh_token';

/**
 * Revokes a token at the AS's `revocation_endpoint` (RFC 7009 §2.1) with the client authentication of the client
 * the token was issued to. 200 means done, including for a token the AS does not know (§2.2); anything else is
 * `ERR_REVOCATION_FAILED` with the RFC 6749 §5.2 `error` (e.g. `unsupported_token_type`, `invalid_client`).
 * Revoking a Mandate refresh token revokes its whole grant, so the access tokens issued from it stop too.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
export async function revokeToken(
  target: AuthenticationTarget,
  token: string,
  tokenTypeHint: TokenTypeHint | undefined,
  authenticate: ClientAuthentication,
  options: HttpOptions,
): Promise<void> {
  const form = new URLSearchParams({ token });
  if (tokenTypeHint !== undefined) form.set('token_type_hint', tokenTypeHint);
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  await authenticate(form, headers, target);
  let answer;
  try {
    answer = await fetchJson(target.endpoint, { method: 'POST', headers, body: form.toString() }, options);
  } catch (cause) {
    throw new RevocationFailed(`could not reach ${target.endpoint}`, { status: 0, cause });
  }
  if (answer.status === 200) return;
  const body = answer.json;
  const error = isJsonObject(body) && typeof body.error === 'string' ? body.error : undefined;
  const errorDescription = isJsonObject(body) && typeof body.error_description === 'string' ? body.error_description : undefined;
  throw new RevocationFailed(`the revocation endpoint answered ${answer.status}${error === undefined ? '' : ` ${error}`}`, {
    status: answer.status,
    ...(error === undefined ? {} : { error }),
    ...(errorDescription === undefined ? {} : { errorDescription }),
  });
}
