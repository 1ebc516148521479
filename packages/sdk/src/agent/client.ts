import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import type { AuthorizationServerMetadata } from '../discovery/authorization-server-metadata.ts';
import { AuthorizationStateMismatch, MetadataInvalid } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { buildAuthorizationUrl, PendingAuthorizations } from './authorization-request.ts';
import type { AuthorizationRequest, PendingAuthorization } from './authorization-request.ts';
import { verifyAuthorizationResponse } from './authorization-response.ts';
import type { AuthorizationResponse } from './authorization-response.ts';
import { appClientFor, clientAuthenticationFor } from './client-authentication.ts';
import type { AppClient, ClientAuthentication } from './client-authentication.ts';
import type {
  AgentAuthClientOptions,
  AgentToken,
  AgentTokenRequest,
  AuthorizationUrl,
  LoopbackAuthorization,
  LoopbackAuthorizationRequest,
  RevokeOptions,
} from './client-options.ts';
import { redeemCode } from './exchange-code.ts';
import type { TokenSetDeps } from './exchange-code.ts';
import { IdTokenVerifier } from './id-token.ts';
import { listenForCallback } from './loopback.ts';
import { normalizeList, resourceList } from './parameter-list.ts';
import { createPkcePair, randomUrlSafe, secretsEqual } from './pkce.ts';
import { refreshTokenSet } from './refresh-token.ts';
import type { RefreshRequest } from './refresh-token.ts';
import { revokeToken } from './revocation.ts';
import { exchangedToken, tokenExchangeForm } from './token-exchange.ts';
import type { ExchangedToken, TokenExchangeRequest } from './token-exchange.ts';
import { requestToken } from './token-request.ts';
import type { TokenResponse } from './token-request.ts';
import { MemoryTokenStore } from './token-store.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';

export type {
  AgentAuthClientOptions,
  AgentToken,
  AgentTokenRequest,
  AppClientOptions,
  AuthorizationUrl,
  LoopbackAuthorization,
  LoopbackAuthorizationRequest,
  RevokeOptions,
} from './client-options.ts';

interface CacheEntry {
  token: AgentToken;
  renewAtMs: number;
}

/**
 * An agent's OAuth client for the Mandate authorization server.
 *
 * - **Acting as itself:** {@link AgentAuthClient.getAgentToken} gets the agent's own tokens through the
 *   `client_credentials` grant (RFC 6749 §4.4) with RFC 8707 resource indicators, cached per (scope, resource),
 *   renewed before expiry, with concurrent callers sharing one request (single-flight).
 * - **Acting for a user** (draft-oauth-ai-agents-on-behalf-of-user-02), through an OAuth application (`app`):
 *   {@link AgentAuthClient.authorizationUrl} → the user logs in and consents → {@link AgentAuthClient.handleCallback}
 *   → {@link AgentAuthClient.exchangeCode} with the agent's own token as `actor_token`; or all of it at once over
 *   a loopback redirect with {@link AgentAuthClient.startLoopbackAuthorization}. The tokens land in a
 *   {@link TokenStore}; {@link AgentAuthClient.getDelegatedToken} serves them and {@link AgentAuthClient.refresh}
 *   rotates them.
 * - **Passing authority on:** {@link AgentAuthClient.exchange} (RFC 8693) and {@link AgentAuthClient.revoke} (RFC 7009).
 *
 * Discovery ({@link AgentAuthClient.metadata}), client authentication ({@link ClientAuthentication} functions) and
 * the token request ({@link requestToken}) are shared by every grant; each grant and check has its own module.
 *
 * @example
 * const agent = new AgentAuthClient({ issuer: 'https://as.example.com', clientId: 'agt_123', clientSecret, app: { clientId: 'app_456' } });
 * const { accessToken } = await agent.getAgentToken({ scope: 'files:read', resource: 'https://mcp.example.com/mcp' });
 * const signIn = await agent.startLoopbackAuthorization({ scope: 'openid files:read', resource: 'https://mcp.example.com/mcp' });
 * console.log(`Open ${signIn.url}`);
 * const { accessToken: forUser } = await signIn.tokens;
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
  readonly #app: AppClient | undefined;
  readonly #store: TokenStore;
  readonly #pending: PendingAuthorizations;
  readonly #authorizationTtlMs: number;
  readonly #idTokens: IdTokenVerifier;
  readonly #refreshing = new Map<string, { promise: Promise<DelegatedTokenSet>; plain: boolean }>();

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
    this.#app = options.app === undefined ? undefined : appClientFor(options.app, options);
    this.#store = options.tokenStore ?? new MemoryTokenStore();
    const ttl = options.authorizationTtlSeconds ?? 600;
    if (!Number.isFinite(ttl) || ttl <= 0) throw new TypeError('authorizationTtlSeconds must be > 0');
    this.#authorizationTtlMs = ttl * 1000;
    this.#pending = new PendingAuthorizations(this.#http.clock);
    this.#idTokens = new IdTokenVerifier(
      async () => {
        const uri = (await this.#metadata()).jwks_uri;
        if (!isAcceptableEndpoint(uri)) throw new MetadataInvalid('jwks_uri');
        return uri;
      },
      async () => {
        const algs = (await this.#metadata())['id_token_signing_alg_values_supported'];
        return Array.isArray(algs) ? algs.filter((a): a is string => typeof a === 'string') : undefined;
      },
      this.#http,
      options.clockToleranceSeconds,
    );
  }

  /** The store of delegated token sets. */
  get tokenStore(): TokenStore {
    return this.#store;
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
    const resources = resourceList(request.resource);
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


  /**
   * Starts an authorization on behalf of a user (draft-oauth-ai-agents-on-behalf-of-user-02 §4.1): the URL of the
   * AS's authorization endpoint for the application, with PKCE S256 (RFC 7636), a fresh `state`, a `nonce` when
   * `openid` is asked for, `resource` (RFC 8707) and `requested_actor` = this agent. Issuer, verifier, state and
   * nonce are remembered until the response comes back (MCP-C-07). Refuses an AS whose metadata does not list S256
   * in `code_challenge_methods_supported` (MCP-C-05).
   *
   * @example
   * const { url } = await agent.authorizationUrl({ scope: 'openid offline_access files:read', resource: 'https://mcp.example.com/mcp' });
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
   */
  async authorizationUrl(request: AuthorizationRequest = {}): Promise<AuthorizationUrl> {
    const app = this.#requireApp('authorizationUrl');
    const scope = normalizeList(request.scope, 'scope');
    const resource = resourceList(request.resource);
    const redirectUri = request.redirectUri ?? app.redirectUri;
    if (redirectUri === undefined || !URL.canParse(redirectUri)) throw new TypeError('redirectUri (or app.redirectUri) must be an absolute URI');
    const actor = request.requestedActor;
    if (actor !== undefined && actor !== null && (typeof actor !== 'string' || actor === '')) throw new TypeError('requestedActor must be a non-empty string or null');
    const metadata = await this.#metadata();
    const endpoint = metadata.authorization_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('authorization_endpoint');
    const methods = metadata['code_challenge_methods_supported'];
    if (!Array.isArray(methods) || !methods.includes('S256')) throw new MetadataInvalid('code_challenge_methods_supported');
    const pkce = createPkcePair();
    const pending: PendingAuthorization = {
      issuer: this.issuer,
      issParameterSupported: metadata['authorization_response_iss_parameter_supported'] === true,
      clientId: app.clientId,
      redirectUri,
      state: randomUrlSafe(),
      codeVerifier: pkce.codeVerifier,
      scope,
      resource,
      expiresAtMs: this.#http.clock() + this.#authorizationTtlMs,
    };
    if (scope.includes('openid')) pending.nonce = randomUrlSafe();
    if (actor !== null) pending.requestedActor = actor ?? this.clientId;
    this.#pending.add(pending);
    return { url: buildAuthorizationUrl(endpoint, pending, pkce.codeChallenge, request.prompt), state: pending.state, redirectUri };
  }

  /**
   * Verifies the redirect back from the AS (`state`, RFC 9207 `iss`, `error`, `code`; see
   * {@link verifyAuthorizationResponse}) and returns the code with what redeeming it needs. Each pending request
   * is answered once. Throws `ERR_AUTHORIZATION_STATE_MISMATCH`, `ERR_AUTHORIZATION_ISSUER_MISMATCH`,
   * `ERR_AUTHORIZATION_DENIED` or `ERR_AUTHORIZATION_RESPONSE_INVALID`.
   */
  handleCallback(callbackUrl: string | URL): AuthorizationResponse {
    if (!(callbackUrl instanceof URL) && (typeof callbackUrl !== 'string' || !URL.canParse(callbackUrl))) throw new TypeError('callbackUrl must be an absolute URL');
    return verifyAuthorizationResponse(new URL(callbackUrl), this.#pending);
  }

  /**
   * Redeems the code as the application (RFC 6749 §4.1.3, PKCE) with the agent's own access token as `actor_token`,
   * so the access token names the user as `sub` and this agent in `act` (OBO-03); verifies the ID token (signature,
   * `iss`, `aud`, `nonce`) when `openid` was granted; stores the set in the token store and returns it. Refusals by
   * the AS are `ERR_TOKEN_REQUEST_FAILED` with `error: 'invalid_grant'`: a code used twice (BCP-03: the AS then
   * revokes the grant), a wrong PKCE verifier, or an actor token that is expired or another agent's (OBO-02).
   */
  async exchangeCode(response: AuthorizationResponse, options: { actorToken?: string } = {}): Promise<DelegatedTokenSet> {
    this.#requireApp('exchangeCode');
    let actorToken = options.actorToken;
    if (actorToken === undefined && response.requestedActor !== undefined) {
      if (response.requestedActor !== this.clientId) throw new TypeError(`actorToken is required: the user authorized ${response.requestedActor}, not this agent`);
      actorToken = (await this.getAgentToken({ resource: response.resource })).accessToken;
    }
    const tokens = await redeemCode(response, actorToken, this.#tokenSetDeps());
    await this.#store.set(tokens.key, tokens);
    return tokens;
  }

  /**
   * The whole on-behalf-of sign-in for a CLI or desktop agent: listens on a loopback redirect URI
   * (`http://127.0.0.1:<port>/callback`, RFC 8252 §7.3; port 0 = any free one), builds the authorization URL for
   * it, and when the browser comes back checks the response and redeems the code ({@link exchangeCode}).
   * Responses that do not carry this sign-in's `state` are refused and ignored; the listener closes after the
   * first real response or `timeoutMs`.
   *
   * @example
   * const signIn = await agent.startLoopbackAuthorization({ scope: 'openid files:read', resource: mcpUrl });
   * console.log(`Open ${signIn.url}`);
   * const tokens = await signIn.tokens; // sub = the user, act = this agent
   * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
   */
  async startLoopbackAuthorization(request: LoopbackAuthorizationRequest = {}): Promise<LoopbackAuthorization> {
    this.#requireApp('startLoopbackAuthorization');
    let expectedState: string | undefined;
    const listener = await listenForCallback<DelegatedTokenSet>({
      ...(request.host === undefined ? {} : { host: request.host }),
      ...(request.port === undefined ? {} : { port: request.port }),
      ...(request.path === undefined ? {} : { path: request.path }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      handle: async (url) => {
        const state = url.searchParams.get('state');
        // Only this sign-in's own response: another pending request of this client is not used up from here.
        if (expectedState === undefined || state === null || !secretsEqual(state, expectedState)) throw new AuthorizationStateMismatch();
        return this.exchangeCode(this.handleCallback(url), request.actorToken === undefined ? {} : { actorToken: request.actorToken });
      },
      isIgnorable: (err) => err instanceof AuthorizationStateMismatch,
      ...(request.onIgnoredCallback === undefined ? {} : { onIgnored: request.onIgnoredCallback }),
    });
    let authorization: AuthorizationUrl;
    try {
      const { scope, resource, requestedActor, prompt } = request;
      authorization = await this.authorizationUrl({ scope, resource, requestedActor, prompt, redirectUri: listener.redirectUri });
    } catch (err) {
      await listener.close();
      throw err;
    }
    expectedState = authorization.state;
    const forget = () => this.#pending.discard(authorization.state);
    listener.result.then(forget, forget);
    return { url: authorization.url, redirectUri: listener.redirectUri, tokens: listener.result, close: () => listener.close() };
  }

  /**
   * The stored token set under `key`, refreshed first when its access token expires within the renewal window
   * (as for {@link getAgentToken}). Undefined when nothing usable is stored: never authorized, revoked, or expired
   * without a refresh token; then the user has to authorize again.
   */
  async getDelegatedToken(key: string): Promise<DelegatedTokenSet | undefined> {
    const stored = await this.#store.get(key);
    if (stored === undefined || stored.expiresAt === undefined) return stored;
    const nowMs = this.#http.clock();
    const lifetimeMs = (stored.expiresAt - stored.updatedAt) * 1000;
    if (nowMs < stored.expiresAt * 1000 - Math.min(this.#renewBeforeMs, lifetimeMs / 2)) return stored;
    if (stored.refreshToken !== undefined) return this.refresh(stored);
    return nowMs < stored.expiresAt * 1000 ? stored : undefined;
  }

  /**
   * Refreshes a token set (RFC 6749 §6) as the application and stores the rotated refresh token (see
   * {@link refreshTokenSet}). Refreshes of one set run one at a time, and concurrent plain refreshes share one
   * request, because two requests with the same refresh token look like theft to the AS (BCP-04: it revokes the
   * grant). An `invalid_grant` deletes the stored set and throws `ERR_TOKEN_REQUEST_FAILED`.
   */
  refresh(tokens: DelegatedTokenSet | string, request: RefreshRequest = {}): Promise<DelegatedTokenSet> {
    const key = typeof tokens === 'string' ? tokens : tokens.key;
    const running = this.#refreshing.get(key);
    const plain = request.scope === undefined;
    if (running !== undefined && running.plain && plain) return running.promise;
    const run = async () => {
      await running?.promise.catch(() => undefined);
      const set = typeof tokens === 'string' ? await this.#store.get(key) : tokens;
      if (set === undefined) throw new TypeError('no token set is stored under this key');
      return refreshTokenSet(set, request, this.#store, this.#tokenSetDeps());
    };
    const promise = run().finally(() => {
      if (this.#refreshing.get(key)?.promise === promise) this.#refreshing.delete(key);
    });
    this.#refreshing.set(key, { promise, plain });
    return promise;
  }

  /**
   * RFC 8693 token exchange by the agent, authenticated as itself: e.g. a user's on-behalf-of token for one
   * resource exchanged for another, or handed to a sub-agent (`audience` = its agent id). By default the agent's
   * own token goes along as `actor_token`, so the new token's `act` names this agent with the earlier chain nested
   * inside (TE-06). Refusals are `ERR_TOKEN_REQUEST_FAILED` (`invalid_request`, `invalid_target`, `invalid_scope`).
   *
   * @example
   * const handOff = await planner.exchange({ subjectToken: tokens.accessToken, audience: 'agt_researcher' });
   * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
   */
  async exchange(request: TokenExchangeRequest): Promise<ExchangedToken> {
    if (typeof request !== 'object' || request === null || typeof request.subjectToken !== 'string' || request.subjectToken === '') {
      throw new TypeError('subjectToken must be a non-empty string');
    }
    const audience = normalizeList(request.audience, 'audience');
    const resource = resourceList(request.resource);
    const scope = normalizeList(request.scope, 'scope');
    let actorToken: string | undefined;
    if (request.actorToken === undefined) actorToken = (await this.getAgentToken(request.actorTokenRequest ?? { resource })).accessToken;
    else if (request.actorToken !== null) actorToken = request.actorToken;
    return exchangedToken(await this.#requestToken(tokenExchangeForm(request, actorToken, { audience, resource, scope })), scope);
  }

  /**
   * Revokes a token (RFC 7009). A {@link DelegatedTokenSet} is revoked as the application, by its refresh token
   * when it has one (on Mandate that ends the whole grant, and every access token issued from it), and deleted from
   * the store. A string is revoked as the agent unless `client: 'app'`; a revoked token of the agent's own is
   * dropped from the cache.
   */
  async revoke(token: string | DelegatedTokenSet, options: RevokeOptions = {}): Promise<void> {
    const metadata = await this.#metadata();
    const endpoint = metadata.revocation_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('revocation_endpoint');
    const target = { issuer: this.issuer, endpoint };
    if (typeof token === 'object' && token !== null) {
      const app = this.#requireApp('revoke');
      const hint = token.refreshToken === undefined ? 'access_token' : 'refresh_token';
      await revokeToken(target, token.refreshToken ?? token.accessToken, hint, app.authenticate, this.#http);
      await this.#store.delete(token.key);
      return;
    }
    if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string or a DelegatedTokenSet');
    const asApp = options.client === 'app';
    await revokeToken(target, token, options.tokenTypeHint, asApp ? this.#requireApp('revoke').authenticate : this.#authenticate, this.#http);
    if (!asApp) for (const [key, entry] of this.#cache) if (entry.token.accessToken === token) this.#cache.delete(key);
  }

  #requireApp(operation: string): AppClient {
    if (this.#app === undefined) throw new TypeError(`${operation} needs the app option (the OAuth application the user authorizes)`);
    return this.#app;
  }

  #tokenSetDeps(): TokenSetDeps {
    const app = this.#requireApp('this operation');
    return {
      issuer: this.issuer,
      appClientId: app.clientId,
      requestAsApp: (form) => this.#requestToken(form, app.authenticate),
      idTokens: this.#idTokens,
      clock: this.#http.clock,
    };
  }

  /** Sends a grant to the discovered token endpoint with the agent's (or the given) client authentication. */
  async #requestToken(form: URLSearchParams, authenticate: ClientAuthentication = this.#authenticate): Promise<TokenResponse> {
    const endpoint = (await this.#metadata()).token_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
    return requestToken({ issuer: this.issuer, endpoint }, form, authenticate, this.#http);
  }
}
