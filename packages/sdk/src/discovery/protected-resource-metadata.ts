import { MetadataFetchFailed, MetadataInvalid, ResourceMismatch } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { protectedResourceMetadataUrl, protectedResourceWellKnown } from '../metadata/protected-resource.ts';

/** The RFC 9728 §2 members a client reads; every other member is kept as-is. */
export interface ResourceMetadataDocument {
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for the resource (MCP: at least one). */
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported?: string[];
  resource_name?: string;
  [member: string]: unknown;
}

/** Options of {@link fetchProtectedResourceMetadata}. */
export interface FetchResourceMetadataOptions extends HttpOptions {
  /**
   * The URL a `WWW-Authenticate` challenge named (`resource_metadata`, RFC 9728 §5.1). Only it is fetched, and its
   * `resource` must then be the requested resource itself (§3.3).
   */
  metadataUrl?: string;
}

/** Protected resource metadata that passed the RFC 9728 §3.3 checks, and where it was found. */
export interface ResourceMetadata {
  document: ResourceMetadataDocument;
  /** The URL it was fetched from. */
  url: string;
}

/**
 * Where a resource's metadata may be, in the order MCP authorization (2025-11-25, "Protected Resource Metadata
 * Discovery Requirements") tries them, each with the `resource` values it may name (RFC 9728 §3.3: the identifier
 * the well-known suffix was inserted into): the path-inserted URL for the resource itself, then the root URL for
 * the resource's origin. The root document may also name the resource itself, which is exactly what was asked
 * about (a server with one resource often serves the same document at both places).
 */
export function resourceMetadataCandidates(resource: string): { url: string; resources: string[] }[] {
  const pathInserted = { url: protectedResourceMetadataUrl(resource), resources: [resource] };
  const origin = new URL(resource).origin;
  const root = { url: `${origin}${protectedResourceWellKnown}`, resources: [origin, resource] };
  return pathInserted.url === root.url ? [pathInserted] : [pathInserted, root];
}

/**
 * True when two resource identifiers name the same resource: the same string, or the same after the URL parser's
 * normalisation of scheme and host case, default port and an empty path (MCP: servers' canonical URIs are
 * lower-case, clients should accept upper case). No other normalisation: RFC 9728 §6 compares code points.
 */
export function isSameResource(a: string, b: string): boolean {
  if (a === b) return true;
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  return new URL(a).href === new URL(b).href;
}

/**
 * Fetches a resource's protected resource metadata (RFC 9728 §3) and checks it (§3.3): from the URL of a
 * `WWW-Authenticate` challenge when there was one, else from the well-known URLs ({@link resourceMetadataCandidates};
 * a 4xx moves on to the next). A document whose `resource` is not the expected one is refused with
 * `ERR_RESOURCE_MISMATCH` and nothing else is tried: it could steer the client's tokens to another resource.
 * A document without `authorization_servers` is `ERR_METADATA_INVALID` (MCP-RS-01).
 *
 * @example
 * const { document } = await fetchProtectedResourceMetadata('https://mcp.example.com/mcp');
 * document.authorization_servers; // ['https://auth.example.com']
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.3
 */
export async function fetchProtectedResourceMetadata(resource: string, options: FetchResourceMetadataOptions = {}): Promise<ResourceMetadata> {
  if (typeof resource !== 'string' || !URL.canParse(resource) || resource.includes('#')) throw new TypeError('resource must be an absolute URL without a fragment');
  const { metadataUrl } = options;
  if (metadataUrl !== undefined && !isAcceptableEndpoint(metadataUrl)) {
    throw new MetadataFetchFailed(`resource_metadata ${JSON.stringify(metadataUrl)} is not an https URL (or http on a loopback host)`);
  }
  const candidates = metadataUrl === undefined ? resourceMetadataCandidates(resource) : [{ url: metadataUrl, resources: [resource] }];
  let lastStatus = 0;
  for (const candidate of candidates) {
    let answer;
    try {
      answer = await fetchJson(candidate.url, { headers: { accept: 'application/json' } }, options);
    } catch (cause) {
      throw new MetadataFetchFailed(`could not fetch ${candidate.url}`, { cause });
    }
    lastStatus = answer.status;
    if (answer.status >= 400 && answer.status < 500 && metadataUrl === undefined) continue;
    if (answer.status !== 200 || !isJsonObject(answer.json)) throw new MetadataFetchFailed(`${candidate.url} answered ${answer.status} without a JSON object`);
    const document = answer.json;
    const named = document.resource;
    if (typeof named !== 'string' || !candidate.resources.some((expected) => isSameResource(named, expected))) {
      throw new ResourceMismatch(candidate.resources, named);
    }
    const servers = document.authorization_servers;
    if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s !== '')) {
      throw new MetadataInvalid('authorization_servers');
    }
    const scopes = document.scopes_supported;
    if (scopes !== undefined && (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))) throw new MetadataInvalid('scopes_supported');
    return { document: document as ResourceMetadataDocument, url: candidate.url };
  }
  throw new MetadataFetchFailed(`no protected resource metadata found for ${resource} (last status ${lastStatus})`);
}
