import { MetadataFetchFailed, MetadataInvalid } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';
import { fetchAuthorizationServerMetadata } from './authorization-server-metadata.ts';
import type { AuthorizationServerMetadata } from './authorization-server-metadata.ts';
import { bearerChallenge } from './parse-challenge.ts';
import type { BearerChallengeParams } from './parse-challenge.ts';
import { fetchProtectedResourceMetadata } from './protected-resource-metadata.ts';
import type { ResourceMetadataDocument } from './protected-resource-metadata.ts';

/** Options of {@link discoverResource}. */
export interface ResourceDiscoveryOptions extends HttpOptions {
  /**
   * The resource's refusal, when the caller already has it: a `Response`, its `Headers`, or the `WWW-Authenticate`
   * value. Without it the resource is probed once without credentials.
   */
  challenge?: Response | Headers | string;
  /**
   * The probe request. Default: `GET` accepting JSON. An MCP server (Streamable HTTP) may answer only `POST`, e.g.
   * `{ method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' }`.
   */
  probe?: RequestInit;
  /** Use this authorization server; it must be one the metadata lists. Default: the first listed. */
  issuer?: string;
}

/** Everything a client needs to ask for a token for a resource, found from the resource's URL alone. */
export interface ResourceDiscovery {
  /** The resource identifier as its metadata states it: the RFC 8707 `resource` to send. */
  resource: string;
  resourceMetadata: ResourceMetadataDocument;
  /** Where the resource metadata was found. */
  resourceMetadataUrl: string;
  /** The chosen authorization server's issuer identifier, equal to its metadata's `issuer` (RFC 8414 §3.3). */
  issuer: string;
  authorizationServer: AuthorizationServerMetadata;
  /** The resource's `Bearer` challenge (`scope`, `error`), when it sent one. */
  challenge?: BearerChallengeParams;
}

/**
 * Finds the authorization server of a protected resource from the resource's URL alone, as MCP clients do
 * (MCP authorization 2025-11-25, "Authorization Server Discovery"):
 *
 * 1. the resource's 401 and its `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1), probed without
 *    credentials unless `challenge` is given;
 * 2. the protected resource metadata, from that URL or else the well-known ones, with the §3.3 `resource` check
 *    ({@link fetchProtectedResourceMetadata});
 * 3. an authorization server it lists, and that server's metadata, from the RFC 8414 and OpenID Connect
 *    well-known URLs in the MCP order, with the RFC 8414 §3.3 `issuer` check.
 *
 * Throws `ERR_RESOURCE_MISMATCH`, `ERR_METADATA_FETCH_FAILED`, `ERR_METADATA_ISSUER_MISMATCH` or
 * `ERR_METADATA_INVALID`.
 *
 * @example
 * const found = await discoverResource('https://mcp.example.com/mcp');
 * found.issuer;                                  // 'https://auth.example.com'
 * found.authorizationServer.token_endpoint;      // 'https://auth.example.com/token'
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5
 */
export async function discoverResource(resourceUrl: string, options: ResourceDiscoveryOptions = {}): Promise<ResourceDiscovery> {
  if (typeof resourceUrl !== 'string' || !URL.canParse(resourceUrl) || resourceUrl.includes('#')) throw new TypeError('resourceUrl must be an absolute URL without a fragment');
  if (options.issuer !== undefined) assertIssuerIdentifier(options.issuer, 'options.issuer');
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;

  const challenge = options.challenge === undefined ? await probe(resourceUrl, options.probe, http) : challengeOf(options.challenge);
  const { document, url } = await fetchProtectedResourceMetadata(resourceUrl, {
    ...http,
    ...(challenge?.resourceMetadata === undefined ? {} : { metadataUrl: challenge.resourceMetadata }),
  });
  const issuer = options.issuer ?? document.authorization_servers[0]!;
  if (!document.authorization_servers.includes(issuer)) throw new MetadataInvalid('authorization_servers');
  // A listed value that is not a usable issuer identifier (RFC 8414 §2) is the resource's fault, not the caller's.
  try {
    assertIssuerIdentifier(issuer);
  } catch {
    throw new MetadataInvalid('authorization_servers');
  }
  const authorizationServer = await fetchAuthorizationServerMetadata(issuer, http);
  const found: ResourceDiscovery = { resource: document.resource, resourceMetadata: document, resourceMetadataUrl: url, issuer, authorizationServer };
  if (challenge !== undefined) found.challenge = challenge;
  return found;
}

function challengeOf(value: Response | Headers | string): BearerChallengeParams | undefined {
  if (typeof value === 'string') return bearerChallenge(new Headers({ 'www-authenticate': value }));
  return bearerChallenge(value instanceof Response ? value.headers : value);
}

/** One request without credentials; its `Bearer` challenge if it was refused with one (a 401 or a 403). */
async function probe(resourceUrl: string, init: RequestInit | undefined, http: HttpOptions): Promise<BearerChallengeParams | undefined> {
  const doFetch = http.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(resourceUrl, {
      method: 'GET',
      headers: { accept: 'application/json' },
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(http.httpTimeoutMs ?? 5000),
    });
  } catch (cause) {
    throw new MetadataFetchFailed(`could not reach ${resourceUrl}`, { cause });
  }
  await response.body?.cancel();
  return response.status === 401 || response.status === 403 ? bearerChallenge(response.headers) : undefined;
}
