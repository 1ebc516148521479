import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS_TOKEN } from '@mandate/protocol';
import { TokenRequestFailed } from '../errors.ts';
import type { TokenResponse } from './token-request.ts';

/** Parameters of an RFC 8693 token exchange made by the agent. */
export interface TokenExchangeRequest {
  /** The token of the party on whose behalf the request is made (e.g. a user's on-behalf-of token). */
  subjectToken: string;
  /** Default `urn:ietf:params:oauth:token-type:access_token`; Mandate also takes `…:jwt` and `…:id_token`. */
  subjectTokenType?: string;
  /**
   * The acting party's token. Default: the agent's actor token (`getActorToken()`: its own token whose audience is
   * the authorization server, never one meant for a resource), which is what makes the new token name the agent in
   * `act` (delegation). `null` sends none: impersonation, which Mandate refuses unless its operator enabled it.
   */
  actorToken?: string | null;
  /** Default `urn:ietf:params:oauth:token-type:access_token`; sent only with an actor token (RFC 8693 §2.1). */
  actorTokenType?: string;
  /** Logical target names (RFC 8693 §2.1); on Mandate, another agent's id makes a hand-off token for that agent. */
  audience?: string | readonly string[];
  /** Resource indicators (RFC 8707) of the new token. */
  resource?: string | readonly string[];
  /** At most the subject token's scopes (RFC 8693 §2.1, TE-09). */
  scope?: string | readonly string[];
  /** Default: the AS chooses (Mandate: an access token). */
  requestedTokenType?: string;
}

/** The token an exchange issued (RFC 8693 §2.2.1). */
export interface ExchangedToken {
  /** The issued token (in `access_token` whatever its type, for historical reasons). */
  accessToken: string;
  /** `issued_token_type`. */
  issuedTokenType: string;
  /** `Bearer`, or `N_A` when the issued token is not an access token and must not be sent as one. */
  tokenType: string;
  expiresAt?: number;
  scope: string[];
}

/**
 * Builds the RFC 8693 §2.1 form: `subject_token` and its type, `actor_token` with its type (never a type without a
 * token), `audience`, `resource` and `scope`.
 */
export function tokenExchangeForm(request: TokenExchangeRequest, actorToken: string | undefined, lists: { audience: string[]; resource: string[]; scope: string[] }): URLSearchParams {
  const form = new URLSearchParams({
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: request.subjectToken,
    subject_token_type: request.subjectTokenType ?? TOKEN_TYPE_ACCESS_TOKEN,
  });
  if (actorToken !== undefined) {
    form.set('actor_token', actorToken);
    form.set('actor_token_type', request.actorTokenType ?? TOKEN_TYPE_ACCESS_TOKEN);
  }
  for (const audience of lists.audience) form.append('audience', audience);
  for (const resource of lists.resource) form.append('resource', resource);
  if (lists.scope.length > 0) form.set('scope', lists.scope.join(' '));
  if (request.requestedTokenType !== undefined) form.set('requested_token_type', request.requestedTokenType);
  return form;
}

/** Reads an RFC 8693 §2.2.1 response; one without `issued_token_type` is not a token exchange response. */
export function exchangedToken(response: TokenResponse, requestedScope: readonly string[]): ExchangedToken {
  if (response.issuedTokenType === undefined) throw new TokenRequestFailed('the token endpoint answered without issued_token_type (RFC 8693 §2.2.1)', { status: 200 });
  const token: ExchangedToken = {
    accessToken: response.accessToken,
    issuedTokenType: response.issuedTokenType,
    tokenType: response.tokenType,
    scope: response.scope === undefined ? [...requestedScope] : response.scope.split(' ').filter((s) => s !== ''),
  };
  if (response.expiresAt !== undefined) token.expiresAt = response.expiresAt;
  return token;
}
