import { GRANT_TYPE_JWT_BEARER, GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ID_JAG, TOKEN_TYPE_ID_TOKEN } from '@mandate/protocol';
import { TokenRequestFailed } from '../errors.ts';
import { isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { clientSecretBasic, publicClient } from './client-authentication.ts';
import { requestToken } from './token-request.ts';
import type { TokenRequestOptions } from './token-request.ts';

/**
 * The client side of cross-domain grants, shared by `AgentAuthClient` and the MCP client provider:
 *
 * - the RFC 7523 §2.1 `jwt-bearer` token request, with a workload's JWT (MCP SEP-1933, workload identity
 *   federation) or an ID-JAG as the assertion;
 * - step 1 of enterprise-managed authorization (MCP SEP-990, draft-ietf-oauth-identity-assertion-authz-grant §4):
 *   the user's ID token exchanged (RFC 8693) at the enterprise identity provider for an ID-JAG whose `audience` is
 *   the resource's authorization server and whose `resource` is the resource.
 */

/** The enterprise identity provider of SEP-990, where the user signed in and the ID token comes from. */
export interface IdentityProvider {
  /** The IdP's token endpoint (https, or http on a loopback host). */
  tokenEndpoint: string;
  /** This client's id at the IdP. */
  clientId: string;
  /** Its secret at the IdP (`client_secret_basic`); without one the client is public there (`client_id` only). */
  clientSecret?: string;
  /** The user's ID token from the IdP (its `aud` is `clientId`), or a function that returns a current one. */
  idToken: string | (() => string | Promise<string>);
}

/** What an ID-JAG is asked for: the resource authorization server, the resource, the scopes. */
export interface IdJagRequest {
  /** The issuer of the resource's authorization server (the ID-JAG's `aud`). */
  audience: string;
  resource?: string;
  scope?: readonly string[];
}

/** The RFC 7523 §2.1 token request form with `assertion` (and `scope` when given; `resource` is the caller's). */
export function jwtBearerForm(assertion: string, scope: readonly string[] = []): URLSearchParams {
  if (typeof assertion !== 'string' || assertion === '') throw new TypeError('the assertion must be a non-empty string (a JWT)');
  const form = new URLSearchParams({ grant_type: GRANT_TYPE_JWT_BEARER, assertion });
  if (scope.length > 0) form.set('scope', scope.join(' '));
  return form;
}

/**
 * Exchanges the user's ID token at the identity provider for an ID-JAG (RFC 8693 with `requested_token_type` =
 * `urn:ietf:params:oauth:token-type:id-jag`) and returns it. The answer must say it issued an ID-JAG, not an access
 * token (`issued_token_type`; `token_type` `N_A`), or it is `ERR_TOKEN_REQUEST_FAILED`; so are the IdP's refusals.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-identity-assertion-authz-grant/
 */
export async function requestIdJag(idp: IdentityProvider, request: IdJagRequest, http: TokenRequestOptions): Promise<string> {
  if (typeof idp !== 'object' || idp === null || !isAcceptableEndpoint(idp.tokenEndpoint)) throw new TypeError('identityProvider.tokenEndpoint must be an https URL (http only on a loopback host)');
  if (typeof idp.clientId !== 'string' || idp.clientId === '') throw new TypeError('identityProvider.clientId must be a non-empty string');
  const idToken = typeof idp.idToken === 'function' ? await idp.idToken() : idp.idToken;
  if (typeof idToken !== 'string' || idToken === '') throw new TypeError('identityProvider.idToken must be (or return) a non-empty string');
  const form = new URLSearchParams({
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    requested_token_type: TOKEN_TYPE_ID_JAG,
    subject_token: idToken,
    subject_token_type: TOKEN_TYPE_ID_TOKEN,
    audience: request.audience,
  });
  if (request.resource !== undefined) form.set('resource', request.resource);
  if (request.scope !== undefined && request.scope.length > 0) form.set('scope', request.scope.join(' '));
  const authenticate = idp.clientSecret === undefined ? publicClient(idp.clientId) : clientSecretBasic(idp.clientId, idp.clientSecret);
  // The IdP is another server: no DPoP proof (the client's prover keeps nonces per server, but binding an ID-JAG is
  // an explicit choice this helper does not make).
  const options: TokenRequestOptions = { clock: http.clock };
  if (http.fetch !== undefined) options.fetch = http.fetch;
  if (http.httpTimeoutMs !== undefined) options.httpTimeoutMs = http.httpTimeoutMs;
  const response = await requestToken({ issuer: new URL(idp.tokenEndpoint).origin, endpoint: idp.tokenEndpoint, tokenEndpoint: idp.tokenEndpoint }, form, authenticate, options);
  if (response.issuedTokenType !== TOKEN_TYPE_ID_JAG) {
    throw new TokenRequestFailed(`the identity provider issued ${response.issuedTokenType ?? 'no issued_token_type'}, not an ID-JAG`, { status: 200 });
  }
  return response.accessToken;
}
