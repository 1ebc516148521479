import type { ResourceRecord } from '../store/store.ts';

/**
 * The allowance of a client that registered itself (RFC 7591, or a Client ID Metadata Document): any scope of the
 * registered resources, and its metadata `scope` (OpenID scopes too) as its default scopes, never as a cap. That
 * `scope` is the client's own claim, so a cap would guard nothing (anyone may register again with a wider one); but
 * an MCP host registers with the scopes of its first 401 and must step up to what a tool's 403 names later. The
 * gates are the user's consent (the page marks such a client unverified) and the scope policies. Clients created
 * by an operator (CLI, admin API) keep their explicit allow-lists.
 */
export function selfRegisteredAllowance(metadataScope: string | undefined, resources: readonly ResourceRecord[]): { allowedScopes: string[]; defaultScopes: string[] } {
  return {
    allowedScopes: [...new Set(resources.flatMap((r) => r.scopes.map((s) => s.name)))],
    defaultScopes: metadataScope ? [...new Set(metadataScope.split(' '))] : [],
  };
}
