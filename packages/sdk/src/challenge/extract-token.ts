import { InvalidRequest, TokenMissing } from '../errors.ts';

/** The part of a request where credentials can be: the web `Headers` shape, or anything with a `get`. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** Where a request may carry an access token, as an adapter sees it. */
export interface CredentialSources {
  headers: HeaderSource;
  /** The request URL, absolute or path-and-query. */
  url: string;
  /** The request method, the `htm` a DPoP proof must name. Default `GET`. */
  method?: string;
  /** True when a form-encoded body (RFC 6750 §2.2) has an `access_token` field, as far as the adapter knows. */
  bodyHasAccessToken?: boolean;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="; RFC 9449 §7.1 uses token68, the same set.
const bearerValue = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const dpopValue = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;
const schemeOnly = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: |$)/;

/**
 * Finds the bearer token of a request (RFC 6750 §2). Only the `Authorization` header is accepted: the query form is
 * forbidden by OAuth 2.1 and MCP, and the form-body form is not offered (`bearer_methods_supported: ['header']`).
 *
 * - no header and no token elsewhere: {@link TokenMissing} (401 with no `error`, RFC 6750 §3.1);
 * - a header with another scheme (Basic, DPoP, ...): also {@link TokenMissing}, an unsupported method;
 * - a repeated `Authorization` header, a token both in the header and in the query or body, a token only in the
 *   query or body, or a malformed Bearer value: {@link InvalidRequest} (400 `invalid_request`, RFC 6750 §3.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2
 */
export function extractBearerToken(sources: CredentialSources): string {
  const header = sources.headers.get('authorization');
  const elsewhere = sources.bodyHasAccessToken === true || queryHasAccessToken(sources.url);
  if (header === null) {
    if (elsewhere) throw new InvalidRequest('access tokens are accepted only in the Authorization header');
    throw new TokenMissing();
  }
  if (elsewhere) throw new InvalidRequest('the access token was sent by more than one method');
  // Fetch's Headers (and the node adapter) join repeated fields with ", "; a b64token never contains a comma.
  if (header.includes(',')) throw new InvalidRequest('the Authorization header was sent more than once');
  const match = bearerValue.exec(header);
  if (match !== null) return match[1] as string;
  const scheme = schemeOnly.exec(header);
  if (scheme !== null && (scheme[1] as string).toLowerCase() !== 'bearer') throw new TokenMissing('no bearer token was presented');
  throw new InvalidRequest('the Authorization header is not a valid Bearer credential');
}

/**
 * Finds the access token of a request and the scheme it came with: `Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449
 * §7.1), with the refusals of {@link extractBearerToken} otherwise. The proof itself is the verifier's to check.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export function extractAccessToken(sources: CredentialSources): { scheme: 'Bearer' | 'DPoP'; token: string } {
  const header = sources.headers.get('authorization');
  const dpop = header === null || header.includes(',') ? null : dpopValue.exec(header);
  if (dpop !== null) {
    if (sources.bodyHasAccessToken === true || queryHasAccessToken(sources.url)) throw new InvalidRequest('the access token was sent by more than one method');
    return { scheme: 'DPoP', token: dpop[1] as string };
  }
  return { scheme: 'Bearer', token: extractBearerToken(sources) };
}

function queryHasAccessToken(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  return new URLSearchParams(url.slice(q + 1)).has('access_token');
}
