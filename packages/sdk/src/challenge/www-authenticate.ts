/** The parameters of a `Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1), or of a `DPoP` one (RFC 9449 §7.1). */
export interface BearerChallenge {
  /** The authentication scheme. Default `Bearer`. */
  scheme?: 'Bearer' | 'DPoP';
  realm?: string;
  /**
   * `invalid_request`, `invalid_token` or `insufficient_scope`, and for `DPoP` also `invalid_dpop_proof` or
   * `use_dpop_nonce`; absent when no credentials were sent (RFC 6750 §3.1).
   */
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'action_approval_required';
  errorDescription?: string;
  /** Scopes the resource needs (RFC 6750 §3: a space-delimited list of scope-tokens). */
  scope?: readonly string[];
  /** URL of the resource's protected resource metadata (RFC 9728 §5.1). */
  resourceMetadata?: string;
  /** `DPoP` only: the proof algorithms accepted (RFC 9449 §7.1 `algs`, space-separated). */
  algs?: readonly string[];
}

// RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), no space, quote or backslash.
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Builds a `WWW-Authenticate: Bearer ...` value (RFC 6750 §3) with the RFC 9728 §5.1 `resource_metadata` parameter.
 *
 * Header grammar traps, handled here rather than at every call site:
 * - `realm` and `resource_metadata` are quoted-strings (RFC 9110 §5.6.4): `"` and `\` are backslash-escaped, and
 *   control characters (CR, LF: header injection) and non-ASCII are dropped, since a quoted-string cannot carry them.
 * - `error_description` may not contain `"` or `\` even escaped (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E), so `"`
 *   becomes `'`, `\` becomes `/`, and anything else outside that set is dropped.
 * - every `scope` must be a scope-token; a bad one is the caller's misuse (TypeError).
 *
 * @example
 * buildWwwAuthenticate({ error: 'insufficient_scope', scope: ['files:write'], resourceMetadata: 'https://h/.well-known/oauth-protected-resource/mcp' })
 * // 'Bearer error="insufficient_scope", scope="files:write", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"'
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function buildWwwAuthenticate(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.realm !== undefined) params.push(`realm=${quoted(challenge.realm)}`);
  if (challenge.error !== undefined) params.push(`error="${challenge.error}"`);
  if (challenge.errorDescription !== undefined) {
    params.push(`error_description="${descriptionText(challenge.errorDescription)}"`);
  }
  if (challenge.scope !== undefined && challenge.scope.length > 0) {
    for (const scope of challenge.scope) {
      if (!scopeToken.test(scope)) throw new TypeError(`scope ${JSON.stringify(scope)} is not an RFC 6750 scope-token`);
    }
    params.push(`scope="${challenge.scope.join(' ')}"`);
  }
  if (challenge.resourceMetadata !== undefined) params.push(`resource_metadata=${quoted(challenge.resourceMetadata)}`);
  const scheme = challenge.scheme ?? 'Bearer';
  if (scheme === 'DPoP' && challenge.algs !== undefined && challenge.algs.length > 0) params.push(`algs=${quoted(challenge.algs.join(' '))}`);
  return params.length === 0 ? scheme : `${scheme} ${params.join(', ')}`;
}

function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x7E\t]/g, '').replace(/[\\"]/g, '\\$&')}"`;
}

function descriptionText(value: string): string {
  return value.replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}
