import type { ResourceRecord, ResourceRecords } from '../store/store.ts';
import { parsePrefixedCredential, RESOURCE_KEY_PREFIX, secretMatchesHash } from '../tokens/secret.ts';
import { bearerCredential } from './bearer-token.ts';
import { OAuthError } from './oauth-error.ts';

/**
 * A resource server's credential: its API key (`mrk_<id>.<secret>`) as a bearer credential, the one it uses for
 * introspection (RFC 7662) and for exchanging the tokens it receives for downstream calls (RFC 8693).
 */

/** The `Authorization` header's resource API key, parsed, or undefined when it carries none. */
export function presentedResourceKey(authorization: string | undefined): { id: string; secret: string } | undefined {
  const bearer = bearerCredential(authorization);
  return (bearer !== undefined && parsePrefixedCredential(RESOURCE_KEY_PREFIX, bearer)) || undefined;
}

/** The current key, or the one the last rotation replaced while its grace period lasts (compared in constant time). */
function apiKeyMatches(resource: ResourceRecord, key: { id: string; secret: string }, now: number): boolean {
  if (key.id === resource.apiKeyId) return secretMatchesHash(key.secret, resource.apiKeyHash);
  const inGrace = resource.previousApiKeyExpiresAt !== null && now < resource.previousApiKeyExpiresAt;
  return key.id === resource.previousApiKeyId && inGrace && resource.previousApiKeyHash !== null && secretMatchesHash(key.secret, resource.previousApiKeyHash);
}

/** The resource whose key this is, or null when none matches. */
export async function authenticateResource(key: { id: string; secret: string }, deps: { resources: Pick<ResourceRecords, 'getResourceByApiKeyId'> }, now: number): Promise<ResourceRecord | null> {
  const resource = await deps.resources.getResourceByApiKeyId(key.id);
  return resource && apiKeyMatches(resource, key, now) ? resource : null;
}

/**
 * The resource server calling one of its own endpoints (action uses, tool-call reports) with its API key as a
 * bearer credential; 401 with an RFC 6750 challenge otherwise.
 */
export async function requireResource(authorization: string | undefined, deps: { resources: Pick<ResourceRecords, 'getResourceByApiKeyId'> }, now: number): Promise<ResourceRecord> {
  const key = presentedResourceKey(authorization);
  const resource = key && (await authenticateResource(key, deps, now));
  if (!resource) {
    throw new OAuthError('invalid_client', 'a resource server API key is required (Authorization: Bearer mrk_…)', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="mandate", error="invalid_token"' },
    });
  }
  return resource;
}
