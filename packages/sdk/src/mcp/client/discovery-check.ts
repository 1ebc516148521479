import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata } from '../../discovery/authorization-server-metadata.ts';
import { isSameResource } from '../../discovery/protected-resource-metadata.ts';
import type { ResourceMetadataDocument } from '../../discovery/protected-resource-metadata.ts';
import { MetadataFetchFailed, MetadataInvalid, MetadataIssuerMismatch, ResourceMismatch } from '../../errors.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../../lib/issuer-url.ts';

/** What an authorization run of the MCP SDK found, after the checks the SDK leaves to its provider. */
export interface CheckedDiscovery {
  /** The authorization server's issuer identifier, identical to its metadata's `issuer` (RFC 8414 §3.3). */
  issuer: string;
  /** The resource as its metadata names it: the RFC 8707 `resource` the SDK sends. */
  resource: string;
  resourceMetadata: ResourceMetadataDocument;
}

/**
 * Checks what the MCP SDK's `auth()` discovered before anything is sent to the authorization server:
 *
 * - protected resource metadata must exist (MCP-RS-01) and name this server (RFC 9728 §3.3): the server URL itself
 *   when the metadata URL came from the 401's `resource_metadata`; the server URL or its origin when the SDK found it
 *   at a well-known URL (path-inserted or root). The SDK alone accepts any same-origin prefix.
 * - the authorization server's metadata must exist, with `issuer` identical to the listed server (RFC 8414 §3.3,
 *   MCP 2026-07-28; the SDK does not compare them), an https (or loopback http) issuer and endpoints, and, for the
 *   authorization code grant, S256 in `code_challenge_methods_supported` (MCP-C-05: refuse when absent).
 *
 * Throws `ERR_RESOURCE_MISMATCH`, `ERR_METADATA_FETCH_FAILED`, `ERR_METADATA_ISSUER_MISMATCH` or `ERR_METADATA_INVALID`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.3
 */
export function checkDiscovery(state: OAuthDiscoveryState, serverUrl: string, codeFlow: boolean): CheckedDiscovery {
  const prm = state.resourceMetadata as ResourceMetadataDocument | undefined;
  if (prm === undefined) throw new MetadataFetchFailed(`${serverUrl} serves no protected resource metadata (RFC 9728)`);
  const expected = state.resourceMetadataUrl === undefined ? [serverUrl, new URL(serverUrl).origin] : [serverUrl];
  const named = prm.resource;
  if (typeof named !== 'string' || !expected.some((e) => isSameResource(named, e))) throw new ResourceMismatch(expected, named);

  const issuer = state.authorizationServerUrl;
  try {
    assertIssuerIdentifier(issuer);
  } catch {
    throw new MetadataInvalid('authorization_servers');
  }
  const metadata = state.authorizationServerMetadata as AuthorizationServerMetadata | undefined;
  if (metadata === undefined) throw new MetadataFetchFailed(`no authorization server metadata for ${issuer}`);
  if (metadata.issuer !== issuer) throw new MetadataIssuerMismatch(issuer, metadata.issuer);
  for (const member of codeFlow ? (['authorization_endpoint', 'token_endpoint'] as const) : (['token_endpoint'] as const)) {
    if (!isAcceptableEndpoint(metadata[member])) throw new MetadataInvalid(member);
  }
  if (codeFlow && !metadata.code_challenge_methods_supported?.includes('S256')) throw new MetadataInvalid('code_challenge_methods_supported');
  return { issuer, resource: named, resourceMetadata: prm };
}
