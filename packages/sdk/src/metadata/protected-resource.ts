/** RFC 9728 §3: the well-known suffix of protected resource metadata. */
export const protectedResourceWellKnown = '/.well-known/oauth-protected-resource';

/** Options of {@link buildProtectedResourceMetadata} and {@link createProtectedResourceMetadataHandler}. */
export interface ProtectedResourceMetadataOptions {
  /** The resource's canonical URI, e.g. `https://mcp.example.com/mcp` (RFC 9728 §2 `resource`; no fragment). */
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for it (MCP-RS-01: at least one). */
  authorizationServers: readonly string[];
  /** Scopes the resource understands. `offline_access` is left out (MCP-RS-05). */
  scopesSupported?: readonly string[];
  /** Human-readable name (RFC 9728 §2 `resource_name`). */
  resourceName?: string;
  /** URL of developer documentation (RFC 9728 §2 `resource_documentation`). */
  resourceDocumentation?: string;
  /** Also answer at the root `/.well-known/oauth-protected-resource` when the resource has a path. Default true. */
  serveRootPath?: boolean;
  /** DPoP proof algorithms the resource accepts (RFC 9728 §2 `dpop_signing_alg_values_supported`; RFC 9449 §7). */
  dpopSigningAlgValuesSupported?: readonly string[];
  /** The resource accepts only DPoP-bound tokens (RFC 9728 §2 `dpop_bound_access_tokens_required`). Default false. */
  dpopBoundAccessTokensRequired?: boolean;
}

/** The RFC 9728 §2 document this SDK serves. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ['header'];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
}

/**
 * The metadata URL of a resource (RFC 9728 §3.1): the well-known suffix is inserted between the host and the path,
 * after dropping a terminating `/` that follows the host; the query is kept.
 *
 * @example
 * protectedResourceMetadataUrl('https://h.example/mcp'); // 'https://h.example/.well-known/oauth-protected-resource/mcp'
 * protectedResourceMetadataUrl('https://h.example/');    // 'https://h.example/.well-known/oauth-protected-resource'
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = checkResource(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${protectedResourceWellKnown}${path}${url.search}`;
}

/**
 * Builds the protected resource metadata document (RFC 9728 §2). `bearer_methods_supported` is `['header']`
 * because the SDK accepts tokens only in the `Authorization` header.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export function buildProtectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  checkResource(options.resource);
  const servers = options.authorizationServers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && URL.canParse(s))) {
    throw new TypeError('authorizationServers must list at least one issuer URL (MCP-RS-01)');
  }
  const metadata: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: [...servers],
    bearer_methods_supported: ['header'],
  };
  // RFC 9728 §2: omit empty parameters. MCP 2026-07-28 (MCP-RS-05): do not advertise offline_access.
  const scopes = (options.scopesSupported ?? []).filter((s) => s !== 'offline_access');
  if (scopes.length > 0) metadata.scopes_supported = scopes;
  if (options.resourceName !== undefined) metadata.resource_name = options.resourceName;
  if (options.resourceDocumentation !== undefined) metadata.resource_documentation = options.resourceDocumentation;
  if (options.dpopSigningAlgValuesSupported !== undefined && options.dpopSigningAlgValuesSupported.length > 0) {
    metadata.dpop_signing_alg_values_supported = [...options.dpopSigningAlgValuesSupported];
  }
  if (options.dpopBoundAccessTokensRequired === true) metadata.dpop_bound_access_tokens_required = true;
  return metadata;
}

/** The request paths at which the metadata of `resource` is served (RFC 9728 §3.1): the path-inserted one, then the root one. */
export function protectedResourceMetadataPaths(resource: string, serveRootPath = true): string[] {
  const path = new URL(protectedResourceMetadataUrl(resource)).pathname;
  return serveRootPath && path !== protectedResourceWellKnown ? [path, protectedResourceWellKnown] : [path];
}

/**
 * Returns a fetch-style handler that answers the metadata requests of a resource and returns `undefined` for any
 * other request, so it composes in front of an application. `GET`/`HEAD` get the JSON document; `OPTIONS` gets a
 * CORS preflight answer, since browser-based MCP clients fetch the document cross-origin.
 *
 * @example
 * const metadata = createProtectedResourceMetadataHandler({ resource: 'https://h.example/mcp', authorizationServers: ['https://as.example'] });
 * const response = metadata(request) ?? (await app(request));
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function createProtectedResourceMetadataHandler(
  options: ProtectedResourceMetadataOptions,
): (request: Request) => Response | undefined {
  const answer = metadataAnswer(options);
  return (request) => {
    const result = answer(request.method, new URL(request.url).pathname);
    return result === undefined ? undefined : new Response(result.body, { status: result.status, headers: result.headers });
  };
}

/** A framework-neutral answer (what the fetch handler and the node adapters write). */
export interface MetadataAnswer {
  status: 200 | 204 | 405;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * The metadata answer (RFC 9728 §3.2: 200 `application/json`) for a method and path, or undefined when the path is not
 * a metadata path of the resource. What the fetch handler and the framework adapters write.
 */
export function metadataAnswer(options: ProtectedResourceMetadataOptions): (method: string, pathname: string) => MetadataAnswer | undefined {
  const body = JSON.stringify(buildProtectedResourceMetadata(options));
  const paths = new Set(protectedResourceMetadataPaths(options.resource, options.serveRootPath));
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS' };
  return (method, pathname): MetadataAnswer | undefined => {
    if (!paths.has(pathname)) return undefined;
    switch (method) {
      case 'GET':
      case 'HEAD':
        return {
          status: 200,
          headers: { ...cors, 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
          body: method === 'GET' ? body : null,
        };
      case 'OPTIONS':
        return { status: 204, headers: { ...cors, 'access-control-allow-headers': 'mcp-protocol-version' }, body: null };
      default:
        return { status: 405, headers: { allow: 'GET, HEAD, OPTIONS' }, body: null };
    }
  };
}

function checkResource(resource: unknown): URL {
  if (typeof resource !== 'string' || !URL.canParse(resource)) throw new TypeError('resource must be an absolute URL');
  if (resource.includes('#')) throw new TypeError('resource must not have a fragment (RFC 9728 §2)');
  return new URL(resource);
}
