import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import type { AuthorizationServerMetadata } from '../discovery/authorization-server-metadata.ts';
import { MetadataInvalid } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { clientSecretBasic, clientSecretPost, privateKeyJwt } from './client-authentication.ts';
import type { AssertionAudience, ClientAuthentication, TokenEndpointAuthMethod } from './client-authentication.ts';
import { requestToken } from './token-request.ts';
import type { TokenResponse } from './token-request.ts';

/** Options of {@link AgentAuthClient}. */
export interface AgentAuthClientOptions extends HttpOptions {
  /** The authorization server's issuer identifier; every endpoint is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** The agent's client id (its agent id, e.g. `agt_...`). */
  clientId: string;
  /** The agent's secret, for `client_secret_basic` (default) or `client_secret_post`. */
  clientSecret?: string;
  /** A private key for `private_key_jwt` (RFC 7523), as a node `KeyObject` or a private JWK. */
  privateKey?: KeyObject | JWK;
  /** JWS algorithm for `private_key_jwt`; inferred from the key when absent. */
  privateKeyAlg?: string;
  /** `kid` of the private key, as registered with the AS. */
  privateKeyKid?: string;
  /** `aud` of client assertions. Default `issuer` (RFC 7523bis); `token_endpoint` for older servers (OIDC Core §9). */
  assertionAudience?: AssertionAudience;
  /** Default: `private_key_jwt` when `privateKey` is given, else `client_secret_basic`. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Renew a cached token this many seconds before it expires (at most half its lifetime). Default 60. */
  renewBeforeExpirySeconds?: number;
  /** Current time in milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/** Parameters of {@link AgentAuthClient.getAgentToken}. */
export interface AgentTokenRequest {
  /** Scopes to request (RFC 6749 §3.3), as a space-separated string or an array. */
  scope?: string | readonly string[];
  /** Resource indicators (RFC 8707 §2): the token's audience. Several give a token for all of them. */
  resource?: string | readonly string[];
}

/** An access token the agent holds. */
export interface AgentToken {
  accessToken: string;
  tokenType: string;
  /** Seconds since the epoch, when the server said. */
  expiresAt?: number;
  /** The scopes granted, as the server stated them (else those requested). */
  scope: string[];
}

interface CacheEntry {
  token: AgentToken;
  renewAtMs: number;
}

/**
 * An agent's OAuth client for the Mandate authorization server. Today: the agent's own tokens through the
 * `client_credentials` grant (RFC 6749 §4.4) with RFC 8707 resource indicators, cached per (scope, resource) and
 * renewed before expiry, with concurrent callers sharing one request (single-flight).
 *
 * Built to grow: discovery ({@link AgentAuthClient.metadata}), client authentication (one
 * {@link ClientAuthentication} function) and the token request ({@link requestToken}) are shared, so later grants
 * (authorization code with `actor_token`, refresh, RFC 8693 token exchange) and revocation are each one method that
 * builds its form and calls them.
 *
 * @example
 * const agent = new AgentAuthClient({ issuer: 'https://as.example.com', clientId: 'agt_123', clientSecret });
 * const { accessToken } = await agent.getAgentToken({ scope: 'files:read', resource: 'https://mcp.example.com/mcp' });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export class AgentAuthClient {
  readonly issuer: string;
  readonly clientId: string;
  readonly #authenticate: ClientAuthentication;
  readonly #metadata: () => Promise<AuthorizationServerMetadata>;
  readonly #http: HttpOptions & { clock: () => number };
  readonly #renewBeforeMs: number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<AgentToken>>();

  constructor(options: AgentAuthClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    assertIssuerIdentifier(options.issuer);
    if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('clientId must be a non-empty string');
    const renewBefore = options.renewBeforeExpirySeconds ?? 60;
    if (!Number.isFinite(renewBefore) || renewBefore < 0) throw new TypeError('renewBeforeExpirySeconds must be ≥ 0');
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.#authenticate = clientAuthenticationFor(options);
    this.#http = { clock: options.clock ?? Date.now };
    if (options.fetch !== undefined) this.#http.fetch = options.fetch;
    if (options.httpTimeoutMs !== undefined) this.#http.httpTimeoutMs = options.httpTimeoutMs;
    this.#metadata = cachedMetadata(options.issuer, this.#http);
    this.#renewBeforeMs = renewBefore * 1000;
  }

  /** The authorization server's metadata (RFC 8414), fetched once; its `issuer` was checked (§3.3). */
  metadata(): Promise<AuthorizationServerMetadata> {
    return this.#metadata();
  }

  /**
   * A token for the agent itself (`client_credentials`, RFC 6749 §4.4; `resource`, RFC 8707 §2.2). Served from
   * the cache while it is fresh; renewed before expiry; concurrent calls for the same (scope, resource) share one
   * request to the token endpoint.
   */
  getAgentToken(request: AgentTokenRequest = {}): Promise<AgentToken> {
    const scopes = normalizeList(request.scope, 'scope');
    const resources = normalizeList(request.resource, 'resource');
    for (const resource of resources) {
      // RFC 8707 §2: an absolute URI without a fragment.
      if (!URL.canParse(resource) || resource.includes('#')) throw new TypeError(`resource ${resource} must be an absolute URI without a fragment`);
    }
    const key = JSON.stringify([scopes, resources]);
    const cached = this.#cache.get(key);
    if (cached !== undefined && this.#http.clock() < cached.renewAtMs) return Promise.resolve(cached.token);
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#fetchAgentToken(key, scopes, resources).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops cached tokens (all, or those of one scope/resource), e.g. after a resource answered 401. */
  invalidate(request?: AgentTokenRequest): void {
    if (request === undefined) {
      this.#cache.clear();
      return;
    }
    this.#cache.delete(JSON.stringify([normalizeList(request.scope, 'scope'), normalizeList(request.resource, 'resource')]));
  }

  async #fetchAgentToken(key: string, scopes: string[], resources: string[]): Promise<AgentToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    for (const resource of resources) form.append('resource', resource);
    const response = await this.#requestToken(form);
    const token: AgentToken = {
      accessToken: response.accessToken,
      tokenType: response.tokenType,
      scope: response.scope === undefined ? scopes : response.scope.split(' ').filter((s) => s !== ''),
    };
    if (response.expiresAt !== undefined) {
      token.expiresAt = response.expiresAt;
      const now = this.#http.clock();
      const lifetimeMs = response.expiresAt * 1000 - now;
      this.#cache.set(key, { token, renewAtMs: now + lifetimeMs - Math.min(this.#renewBeforeMs, lifetimeMs / 2) });
    }
    return token;
  }

  /** Sends a grant to the discovered token endpoint with this client's authentication. */
  async #requestToken(form: URLSearchParams): Promise<TokenResponse> {
    const endpoint = (await this.#metadata()).token_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
    return requestToken({ issuer: this.issuer, endpoint }, form, this.#authenticate, this.#http);
  }
}

function clientAuthenticationFor(options: AgentAuthClientOptions): ClientAuthentication {
  const method = options.tokenEndpointAuthMethod ?? (options.privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
        throw new TypeError(`clientSecret is required for ${method}`);
      }
      return method === 'client_secret_basic'
        ? clientSecretBasic(options.clientId, options.clientSecret)
        : clientSecretPost(options.clientId, options.clientSecret);
    case 'private_key_jwt':
      if (options.privateKey === undefined) throw new TypeError('privateKey is required for private_key_jwt');
      return privateKeyJwt(options.clientId, options.privateKey, {
        ...(options.privateKeyAlg === undefined ? {} : { alg: options.privateKeyAlg }),
        ...(options.privateKeyKid === undefined ? {} : { kid: options.privateKeyKid }),
        ...(options.assertionAudience === undefined ? {} : { audience: options.assertionAudience }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      });
    default:
      throw new TypeError(`unsupported tokenEndpointAuthMethod ${String(method)}`);
  }
}

/** Scopes or resources as a sorted, de-duplicated list, so that equal requests share one cache entry. */
function normalizeList(value: string | readonly string[] | undefined, name: string): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(items) || !items.every((s) => typeof s === 'string')) throw new TypeError(`${name} must be a string or an array of strings`);
  return [...new Set(items.filter((s) => s !== ''))].sort();
}
