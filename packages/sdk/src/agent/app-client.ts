import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import type { AuthorizationServerMetadata } from '../discovery/authorization-server-metadata.ts';
import { AuthorizationStateMismatch, MetadataInvalid } from '../errors.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { buildAuthorizationUrl, PendingAuthorizations } from './authorization-request.ts';
import type { AuthorizationRequest, PendingAuthorization } from './authorization-request.ts';
import { verifyAuthorizationResponse } from './authorization-response.ts';
import type { AuthorizationResponse } from './authorization-response.ts';
import { appClientFor } from './client-authentication.ts';
import type { AppClient } from './client-authentication.ts';
import type { AppAuthClientOptions, AuthorizationUrl, LoopbackAuthorization, LoopbackAuthorizationRequest } from './client-options.ts';
import { redeemCode } from './exchange-code.ts';
import type { TokenSetDeps } from './exchange-code.ts';
import { IdTokenVerifier } from './id-token.ts';
import { listenForCallback } from './loopback.ts';
import { normalizeList, resourceList } from './parameter-list.ts';
import { createPkcePair, randomUrlSafe, secretsEqual } from './pkce.ts';
import { refreshTokenSet } from './refresh-token.ts';
import type { RefreshRequest } from './refresh-token.ts';
import { revokeToken } from './revocation.ts';
import type { TokenTypeHint } from './revocation.ts';
import { requestToken } from './token-request.ts';
import type { TokenRequestOptions, TokenResponse } from './token-request.ts';
import { MemoryTokenStore } from './token-store.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';
import type { DpopProver } from '../dpop/prover.ts';

/**
 * An OAuth application's client for a user's sign-in: the authorization code grant with PKCE (RFC 6749 §4.1,
 * RFC 7636), the response checks (`state`, RFC 9207 `iss`), the ID token (OpenID Connect Core §3.1.3.7), refresh
 * with rotation (RFC 6749 §6) and revocation (RFC 7009), with the tokens kept in a {@link TokenStore}. For a web
 * application, a CLI or a desktop app that signs a user in; `AgentAuthClient` builds on it for an agent acting on
 * a user's behalf.
 *
 * @example
 * const app = new AppAuthClient({ issuer: 'https://as.example.com', clientId: 'app_456', redirectUri: 'http://127.0.0.1/callback' });
 * const signIn = await app.startLoopbackAuthorization({ scope: 'openid offline_access files:read', resource: 'https://mcp.example.com/mcp' });
 * console.log(`Open ${signIn.url}`);
 * const tokens = await signIn.tokens;              // accessToken, refreshToken, subject (the user), …
 * const fresh = await app.getTokenSet(tokens.key); // refreshed when due; undefined = sign in again
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 */
export class AppAuthClient {
  readonly issuer: string;
  readonly clientId: string;
  readonly #app: AppClient;
  readonly #metadata: () => Promise<AuthorizationServerMetadata>;
  readonly #http: TokenRequestOptions;
  readonly #renewBeforeMs: number;
  readonly #store: TokenStore;
  readonly #pending: PendingAuthorizations;
  readonly #authorizationTtlMs: number;
  readonly #idTokens: IdTokenVerifier;
  readonly #storeDpopKey: boolean;
  readonly #refreshing = new Map<string, { promise: Promise<DelegatedTokenSet>; plain: boolean }>();

  constructor(options: AppAuthClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    assertIssuerIdentifier(options.issuer);
    this.#app = appClientFor(options, options);
    this.issuer = options.issuer;
    this.clientId = this.#app.clientId;
    const renewBefore = options.renewBeforeExpirySeconds ?? 60;
    if (!Number.isFinite(renewBefore) || renewBefore < 0) throw new TypeError('renewBeforeExpirySeconds must be ≥ 0');
    this.#renewBeforeMs = renewBefore * 1000;
    this.#http = { clock: options.clock ?? Date.now };
    if (options.fetch !== undefined) this.#http.fetch = options.fetch;
    if (options.httpTimeoutMs !== undefined) this.#http.httpTimeoutMs = options.httpTimeoutMs;
    if (options.dpop !== undefined) this.#http.dpop = options.dpop;
    if (options.storeDpopKey !== undefined && typeof options.storeDpopKey !== 'boolean') throw new TypeError('storeDpopKey must be a boolean');
    this.#storeDpopKey = options.storeDpopKey === true;
    this.#metadata = cachedMetadata(options.issuer, this.#http);
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

  /** The store of token sets. */
  get tokenStore(): TokenStore {
    return this.#store;
  }

  /** The authorization server's metadata (RFC 8414), fetched once; its `issuer` was checked (§3.3). */
  metadata(): Promise<AuthorizationServerMetadata> {
    return this.#metadata();
  }

  /**
   * Starts an authorization (RFC 6749 §4.1.1): the URL of the AS's authorization endpoint with PKCE S256 (RFC 7636),
   * a fresh `state`, a `nonce` when `openid` is asked for, `resource` (RFC 8707) and, when given, `requested_actor`
   * (draft-oauth-ai-agents-on-behalf-of-user-02). Issuer, verifier, state and nonce are remembered until the
   * response comes back (MCP-C-07). Refuses an AS whose metadata does not list S256 in
   * `code_challenge_methods_supported` (MCP-C-05).
   *
   * @example
   * const { url } = await app.authorizationUrl({ scope: 'openid offline_access files:read', resource: 'https://mcp.example.com/mcp' });
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
   */
  async authorizationUrl(request: AuthorizationRequest = {}): Promise<AuthorizationUrl> {
    const scope = normalizeList(request.scope, 'scope');
    const resource = resourceList(request.resource);
    const redirectUri = request.redirectUri ?? this.#app.redirectUri;
    if (redirectUri === undefined || !URL.canParse(redirectUri)) throw new TypeError('redirectUri (or the app redirectUri) must be an absolute URI');
    const actor = request.requestedActor;
    if (actor !== undefined && actor !== null && (typeof actor !== 'string' || actor === '')) throw new TypeError('requestedActor must be a non-empty string or null');
    const metadata = await this.#metadata();
    const endpoint = metadata.authorization_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('authorization_endpoint');
    const methods = metadata.code_challenge_methods_supported;
    if (!Array.isArray(methods) || !methods.includes('S256')) throw new MetadataInvalid('code_challenge_methods_supported');
    const pkce = createPkcePair();
    const pending: PendingAuthorization = {
      issuer: this.issuer,
      issParameterSupported: metadata.authorization_response_iss_parameter_supported === true,
      clientId: this.clientId,
      redirectUri,
      state: randomUrlSafe(),
      codeVerifier: pkce.codeVerifier,
      scope,
      resource,
      expiresAtMs: this.#http.clock() + this.#authorizationTtlMs,
    };
    if (scope.includes('openid')) pending.nonce = randomUrlSafe();
    if (typeof actor === 'string') pending.requestedActor = actor;
    this.#pending.add(pending);
    const url = new URL(buildAuthorizationUrl(endpoint, pending, pkce.codeChallenge, request.prompt));
    // RFC 9449 §10: bind the code to the DPoP key, so that only this client's key can redeem it.
    if (this.#http.dpop !== undefined) url.searchParams.set('dpop_jkt', this.#http.dpop.jkt);
    return { url: url.href, state: pending.state, redirectUri };
  }

  /**
   * Verifies the redirect back from the AS (`state`, RFC 9207 `iss`, `error`, `code`; see
   * {@link verifyAuthorizationResponse}) and returns the code with what redeeming it needs. Each pending request
   * is answered once. Throws `ERR_AUTHORIZATION_STATE_MISMATCH`, `ERR_AUTHORIZATION_ISSUER_MISMATCH`,
   * `ERR_AUTHORIZATION_DENIED` or `ERR_AUTHORIZATION_RESPONSE_INVALID`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
   */
  handleCallback(callbackUrl: string | URL): AuthorizationResponse {
    if (!(callbackUrl instanceof URL) && (typeof callbackUrl !== 'string' || !URL.canParse(callbackUrl))) throw new TypeError('callbackUrl must be an absolute URL');
    return verifyAuthorizationResponse(new URL(callbackUrl), this.#pending);
  }

  /**
   * Redeems the code (RFC 6749 §4.1.3 with the PKCE verifier, RFC 7636 §4.5, and `resource` again, RFC 8707 §2.2);
   * with `actorToken`, an on-behalf-of redemption (draft-oauth-ai-agents-on-behalf-of-user-02 §4.3). Verifies the
   * ID token when `openid` was granted, stores the set and returns it. Refusals by the AS are
   * `ERR_TOKEN_REQUEST_FAILED` (`invalid_grant` for a code used twice or a wrong verifier).
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
   */
  async exchangeCode(response: AuthorizationResponse, options: { actorToken?: string | undefined } = {}): Promise<DelegatedTokenSet> {
    const tokens = await redeemCode(response, options.actorToken, this.#tokenSetDeps());
    await this.#store.set(tokens.key, tokens);
    return tokens;
  }

  /**
   * The whole sign-in for a CLI or desktop app: listens on a loopback redirect URI (`http://127.0.0.1:<port>/callback`,
   * RFC 8252 §7.3; port 0 = any free one), builds the authorization URL for it, and when the browser comes back
   * checks the response and redeems the code with `redeem` (default {@link exchangeCode}). Responses that do not
   * carry this sign-in's `state` are refused and ignored; the listener closes after the first real response or
   * `timeoutMs`.
   *
   * @example
   * const signIn = await app.startLoopbackAuthorization({ scope: 'openid files:read', resource: mcpUrl });
   * console.log(`Open ${signIn.url}`);
   * const tokens = await signIn.tokens;
   * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
   */
  async startLoopbackAuthorization(
    request: LoopbackAuthorizationRequest = {},
    redeem: (response: AuthorizationResponse) => Promise<DelegatedTokenSet> = (response) => this.exchangeCode(response, { actorToken: request.actorToken }),
  ): Promise<LoopbackAuthorization> {
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
        return redeem(this.handleCallback(url));
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
   * (`renewBeforeExpirySeconds`, at most half the lifetime). Undefined when nothing usable is stored: never
   * authorized, revoked, or expired without a refresh token; then the user has to authorize again.
   */
  async getTokenSet(key: string): Promise<DelegatedTokenSet | undefined> {
    const stored = await this.#store.get(key);
    if (stored === undefined || stored.expiresAt === undefined) return stored;
    const nowMs = this.#http.clock();
    const lifetimeMs = (stored.expiresAt - stored.updatedAt) * 1000;
    if (nowMs < stored.expiresAt * 1000 - Math.min(this.#renewBeforeMs, lifetimeMs / 2)) return stored;
    if (stored.refreshToken !== undefined) return this.refresh(stored);
    return nowMs < stored.expiresAt * 1000 ? stored : undefined;
  }

  /**
   * Refreshes a token set (RFC 6749 §6) and stores the rotated refresh token (see {@link refreshTokenSet}).
   * Refreshes of one set run one at a time, and concurrent plain refreshes share one request, because two requests
   * with the same refresh token look like theft to the AS (BCP-04: it revokes the grant). An `invalid_grant`
   * deletes the stored set and throws `ERR_TOKEN_REQUEST_FAILED`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
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
   * Revokes a token of this application (RFC 7009). A {@link DelegatedTokenSet} is revoked by its refresh token when
   * it has one (on Mandate that ends the whole grant, and every access token issued from it) and deleted from the
   * store; a string is revoked as given.
   *
   * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
   */
  async revoke(token: string | DelegatedTokenSet, options: { tokenTypeHint?: TokenTypeHint } = {}): Promise<void> {
    const metadata = await this.#metadata();
    const endpoint = metadata.revocation_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('revocation_endpoint');
    const target = { issuer: this.issuer, endpoint, tokenEndpoint: metadata.token_endpoint };
    if (typeof token === 'object' && token !== null) {
      const hint = token.refreshToken === undefined ? 'access_token' : 'refresh_token';
      await revokeToken(target, token.refreshToken ?? token.accessToken, hint, this.#app.authenticate, this.#http);
      await this.#store.delete(token.key);
      return;
    }
    if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string or a DelegatedTokenSet');
    await revokeToken(target, token, options.tokenTypeHint, this.#app.authenticate, this.#http);
  }

  #tokenSetDeps(): TokenSetDeps {
    return {
      issuer: this.issuer,
      appClientId: this.clientId,
      requestAsApp: (form, dpop) => this.#requestToken(form, dpop),
      dpop: this.#http.dpop,
      storeDpopKey: this.#storeDpopKey,
      idTokens: this.#idTokens,
      clock: this.#http.clock,
    };
  }

  /** Sends a grant to the discovered token endpoint with the application's client authentication. */
  async #requestToken(form: URLSearchParams, dpop?: DpopProver): Promise<TokenResponse> {
    const endpoint = (await this.#metadata()).token_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
    return requestToken({ issuer: this.issuer, endpoint, tokenEndpoint: endpoint }, form, this.#app.authenticate, dpop === undefined ? this.#http : { ...this.#http, dpop });
  }
}
