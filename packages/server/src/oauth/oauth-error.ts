/**
 * The one error type of the OAuth endpoints (RFC 6749 §5.2 and the RFCs that add codes). `description` is sent to
 * the client; `detail` stays in logs and the audit trail. Only `http/` turns it into a response.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  // RFC 7591 §3.2.2 (registration) and RFC 6750 §3.1 (RFC 7592's registration access token).
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_token'
  // OpenID CIBA Core 1.0 §11, §13 (backchannel authentication and its token requests).
  | 'unknown_user_id'
  | 'invalid_binding_message'
  | 'expired_login_hint_token'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  // RFC 9396 §5 (Rich Authorization Requests).
  | 'invalid_authorization_details'
  // Per-action approvals (issue 12 item 4): a single-use action token used again, or for another action.
  | 'action_token_used'
  | 'action_mismatch'
  // RFC 6749 §4.1.2.1 and OIDC Core §6.2, answered as JSON by the pushed authorization request endpoint (RFC 9126 §2.3).
  | 'unsupported_response_type'
  | 'request_not_supported';

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly error: OAuthErrorCode;
  readonly status: number;
  /** For logs and the audit trail only; never sent to the client. */
  readonly detail: string | undefined;
  /** Extra response headers (WWW-Authenticate on 401, Retry-After on 429). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(error: OAuthErrorCode, description: string, init: { status?: number; detail?: string; headers?: Record<string, string> } = {}) {
    super(description);
    this.error = error;
    this.status = init.status ?? (error === 'invalid_client' ? 401 : 400);
    this.detail = init.detail;
    this.headers = init.headers ?? {};
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

export const invalidRequest = (description: string, detail?: string) => new OAuthError('invalid_request', description, { detail });
export const invalidGrant = (description: string, detail?: string) => new OAuthError('invalid_grant', description, { detail });
export const invalidScope = (description: string, detail?: string) => new OAuthError('invalid_scope', description, { detail });
export const invalidTarget = (description: string, detail?: string) => new OAuthError('invalid_target', description, { detail });
export const unauthorizedClient = (description: string, detail?: string) => new OAuthError('unauthorized_client', description, { detail });

/**
 * 429 for a request over its rate limit (`what`: `pushed authorization requests`). RFC 6749 has no code for this;
 * 429 with Retry-After is what clients (and RFC 6585) understand.
 */
export const tooManyRequests = (what: string, retryAfterSeconds: number, detail?: string) =>
  new OAuthError('invalid_request', `too many ${what}; retry after ${retryAfterSeconds}s`, { status: 429, detail, headers: { 'retry-after': String(retryAfterSeconds) } });

/**
 * RFC 6749 §5.2: 401 for a failed client authentication, with a WWW-Authenticate challenge for the scheme the
 * client tried when it used the Authorization header.
 */
export const invalidClient = (description: string, init: { detail?: string; basicChallenge?: boolean } = {}) =>
  new OAuthError('invalid_client', description, {
    detail: init.detail,
    headers: init.basicChallenge ? { 'www-authenticate': 'Basic realm="mandate", charset="UTF-8"' } : {},
  });
