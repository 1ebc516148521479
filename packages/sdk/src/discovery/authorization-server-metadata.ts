import { MetadataFetchFailed, MetadataIssuerMismatch } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';

/** The RFC 8414 §2 members the SDK reads; every other member is kept as-is. */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  token_endpoint?: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  authorization_endpoint?: string;
  registration_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported?: string[];
  grant_types_supported?: string[];
  code_challenge_methods_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  /** RFC 9207 §3: the AS puts `iss` in every authorization response. */
  authorization_response_iss_parameter_supported?: boolean;
  /** draft-ietf-oauth-client-id-metadata-document §4: an https URL may serve as `client_id`. */
  client_id_metadata_document_supported?: boolean;
  [member: string]: unknown;
}

/**
 * The discovery URLs for an issuer, in the order MCP (2026-07-28, "Authorization Server Metadata Discovery") and
 * RFC 8414 §3.1 give: the RFC 8414 well-known URI path-inserted before the issuer's path, then the OIDC forms.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const origin = url.origin;
  if (path === '') {
    return [`${origin}/.well-known/oauth-authorization-server`, `${origin}/.well-known/openid-configuration`];
  }
  return [
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Fetches an authorization server's metadata (RFC 8414 §3) and checks that its `issuer` is identical to the
 * configured one (RFC 8414 §3.3: otherwise the metadata MUST NOT be used). A 4xx moves on to the next discovery URL
 * (MCP authorization, "Authorization Server Metadata Discovery"); a 5xx or an issuer mismatch stops at once.
 *
 * @example
 * const metadata = await fetchAuthorizationServerMetadata('https://as.example.com');
 * metadata.jwks_uri; // 'https://as.example.com/jwks'
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 */
export async function fetchAuthorizationServerMetadata(
  issuer: string,
  options: HttpOptions = {},
): Promise<AuthorizationServerMetadata> {
  assertIssuerIdentifier(issuer);
  let lastStatus = 0;
  for (const url of metadataUrls(issuer)) {
    let answer;
    try {
      answer = await fetchJson(url, { headers: { accept: 'application/json' } }, options);
    } catch (cause) {
      throw new MetadataFetchFailed(`could not fetch ${url}`, { cause });
    }
    lastStatus = answer.status;
    if (answer.status >= 400 && answer.status < 500) continue;
    if (answer.status !== 200 || !isJsonObject(answer.json)) {
      throw new MetadataFetchFailed(`${url} answered ${answer.status} without a JSON object`);
    }
    if (answer.json.issuer !== issuer) throw new MetadataIssuerMismatch(issuer, answer.json.issuer);
    return answer.json as AuthorizationServerMetadata;
  }
  throw new MetadataFetchFailed(`no metadata found for ${issuer} (last status ${lastStatus})`);
}

/**
 * Returns a function that fetches the metadata (RFC 8414 §3) once and then serves it from memory. A failed fetch is
 * not cached, so the next call tries again.
 */
export function cachedMetadata(issuer: string, options: HttpOptions): () => Promise<AuthorizationServerMetadata> {
  let pending: Promise<AuthorizationServerMetadata> | undefined;
  return () => {
    pending ??= fetchAuthorizationServerMetadata(issuer, options).catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
