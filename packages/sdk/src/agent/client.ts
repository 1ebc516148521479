import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import type { AuthorizationServerMetadata } from '../discovery/authorization-server-metadata.ts';
import { MetadataInvalid } from '../errors.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { AppAuthClient } from './app-client.ts';
import { agentTokenFrom, AgentTokenCache } from './agent-token-cache.ts';
import { type ApprovalRequest, type PendingApproval, requestBackchannelApproval, toolCallApproval } from './backchannel-approval.ts';
import { type DeviceAuthorization, type DeviceAuthorizationRequest, startDeviceAuthorization } from './device-authorization.ts';
import type { AuthorizationRequest } from './authorization-request.ts';
import type { AuthorizationResponse } from './authorization-response.ts';
import { clientAuthenticationFor } from './client-authentication.ts';
import type { ClientAuthentication } from './client-authentication.ts';
import type {
  AgentAuthClientOptions,
  AgentToken,
  AgentTokenRequest,
  AuthorizationUrl,
  LoopbackAuthorization,
  LoopbackAuthorizationRequest,
  RevokeOptions,
} from './client-options.ts';
import { normalizeList, resourceList } from './parameter-list.ts';
import type { RefreshRequest } from './refresh-token.ts';
import { revokeToken } from './revocation.ts';
import type { ToolCallApprovalRequest } from './backchannel-approval.ts';
import { exchangedToken, tokenExchangeForm } from './token-exchange.ts';
import { jwtBearerForm, requestIdJag } from './id-jag.ts';
import type { IdentityProvider } from './id-jag.ts';
import type { ExchangedToken, TokenExchangeRequest } from './token-exchange.ts';
import { requestToken } from './token-request.ts';
import type { TokenRequestOptions, TokenResponse } from './token-request.ts';
import { MemoryTokenStore } from './token-store.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';

/**
 * An agent's OAuth client for the Mandate authorization server.
 *
 * - **Acting as itself:** {@link AgentAuthClient.getAgentToken} gets the agent's own tokens through the
 *   `client_credentials` grant (RFC 6749 §4.4) with RFC 8707 resource indicators, cached per (scope, resource),
 *   renewed before expiry, with concurrent callers sharing one request (single-flight).
 * - **Acting for a user** (draft-oauth-ai-agents-on-behalf-of-user-02), through an OAuth application (`app`, an
 *   {@link AppAuthClient} that this client configures and exposes as `agent.app`):
 *   {@link AgentAuthClient.authorizationUrl} → the user logs in and consents → {@link AgentAuthClient.handleCallback}
 *   → {@link AgentAuthClient.exchangeCode} with the agent's actor token as `actor_token`; or all of it at once over
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
  /** The application through which users authorize this agent (from the `app` option), if there is one. */
  readonly app: AppAuthClient | undefined;
  readonly #authenticate: ClientAuthentication;
  readonly #metadata: () => Promise<AuthorizationServerMetadata>;
  readonly #http: TokenRequestOptions;
  readonly #tokens: AgentTokenCache;
  readonly #app: AppAuthClient | undefined;
  readonly #store: TokenStore;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #approvalEvents: boolean;

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
    if (options.dpop !== undefined) this.#http.dpop = options.dpop;
    this.#tokens = new AgentTokenCache((form) => this.#requestToken(form), this.#http.clock, renewBefore * 1000);
    this.#store = options.tokenStore ?? new MemoryTokenStore();
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#approvalEvents = options.approvalEvents ?? true;
    if (options.app !== undefined && (typeof options.app !== 'object' || options.app === null)) throw new TypeError('app must be an object');
    this.#app =
      options.app === undefined
        ? undefined
        : new AppAuthClient({
            ...options.app,
            issuer: options.issuer,
            tokenStore: this.#store,
            ...pick(options, ['fetch', 'httpTimeoutMs', 'clock', 'dpop', 'storeDpopKey', 'assertionAudience', 'authorizationTtlSeconds', 'clockToleranceSeconds', 'renewBeforeExpirySeconds']),
          });
    this.app = this.#app;
    // One metadata document for the agent and its application: same issuer, same HTTP options.
    const app = this.#app;
    this.#metadata = app === undefined ? cachedMetadata(options.issuer, this.#http) : () => app.metadata();
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
    return this.#tokens.get(normalizeList(request.scope, 'scope'), resourceList(request.resource));
  }

  /** Drops cached tokens (all, or those of one scope/resource), e.g. after a resource answered 401. */
  invalidate(request?: AgentTokenRequest): void {
    if (request === undefined) this.#tokens.invalidate();
    else this.#tokens.invalidate(normalizeList(request.scope, 'scope'), normalizeList(request.resource, 'resource'));
  }

  /**
   * Starts an authorization on behalf of a user (draft-oauth-ai-agents-on-behalf-of-user-02 §4.1) through the
   * application: {@link AppAuthClient.authorizationUrl} with `requested_actor` = this agent unless the request names
   * another (`null`: none). PKCE S256, `state`, `nonce` with `openid`, `resource`; refuses an AS without S256
   * (MCP-C-05).
   *
   * @example
   * const { url } = await agent.authorizationUrl({ scope: 'openid offline_access files:read', resource: 'https://mcp.example.com/mcp' });
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
   */
  async authorizationUrl(request: AuthorizationRequest = {}): Promise<AuthorizationUrl> {
    return this.#requireApp('authorizationUrl').authorizationUrl(this.#withActor(request));
  }

  /**
   * Verifies the redirect back from the AS ({@link AppAuthClient.handleCallback}: `state`, RFC 9207 `iss`, `error`,
   * `code`). Throws `ERR_AUTHORIZATION_STATE_MISMATCH`, `ERR_AUTHORIZATION_ISSUER_MISMATCH`,
   * `ERR_AUTHORIZATION_DENIED` or `ERR_AUTHORIZATION_RESPONSE_INVALID`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
   */
  handleCallback(callbackUrl: string | URL): AuthorizationResponse {
    return this.#requireApp('handleCallback').handleCallback(callbackUrl);
  }

  /**
   * The agent's actor token: its own token for the authorization server itself (`client_credentials` with
   * `resource` = the issuer; `aud` = the issuer, no scope, a few minutes), cached like every agent token. It is
   * what an on-behalf-of code redemption and a token exchange take as `actor_token`: Mandate refuses a token meant
   * for a resource there (SR-04), since any resource that saw it could otherwise act as the agent. It opens no
   * resource.
   */
  getActorToken(): Promise<AgentToken> {
    return this.getAgentToken({ resource: this.issuer });
  }

  /**
   * Asks a person to approve one MCP tool call (a per-action approval, issue 12 item 4): a CIBA request
   * ({@link requestApproval}) carrying the RFC 9396 `mcp_tool` detail of `tool` with exactly these `arguments` (their
   * SHA-256 over canonical JSON) at `resource`. Once approved, `tokens.accessToken` is good for that one call, once,
   * for a few minutes: make the call with it (`callToolWithActionToken` of `@mandate/sdk/mcp/client`).
   *
   * @example
   * const pending = await agent.requestToolCallApproval({ loginHint: 'ada@example.com', resource, tool: 'run_command', arguments: { command: 'ls' }, scope: 'exec' });
   * const { accessToken } = await pending.tokens;
   * @see https://www.rfc-editor.org/rfc/rfc9396
   */
  async requestToolCallApproval(request: ToolCallApprovalRequest): Promise<PendingApproval> {
    return this.requestApproval(toolCallApproval(request));
  }

  /**
   * Redeems the code as the application with the agent's actor token ({@link getActorToken}) as `actor_token`, so the access token
   * names the user as `sub` and this agent in `act` (OBO-03); verifies the ID token when `openid` was granted;
   * stores and returns the set. Refusals by the AS are `ERR_TOKEN_REQUEST_FAILED` with `error: 'invalid_grant'`: a
   * code used twice (BCP-03: the AS then revokes the grant), a wrong PKCE verifier, or an actor token that is
   * expired or another agent's (OBO-02).
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
   */
  async exchangeCode(response: AuthorizationResponse, options: { actorToken?: string } = {}): Promise<DelegatedTokenSet> {
    const app = this.#requireApp('exchangeCode');
    let actorToken = options.actorToken;
    if (actorToken === undefined && response.requestedActor !== undefined) {
      if (response.requestedActor !== this.clientId) throw new TypeError(`actorToken is required: the user authorized ${response.requestedActor}, not this agent`);
      actorToken = (await this.getActorToken()).accessToken;
    }
    return app.exchangeCode(response, { actorToken });
  }

  /**
   * The whole on-behalf-of sign-in for a CLI or desktop agent ({@link AppAuthClient.startLoopbackAuthorization}
   * with `requested_actor` = this agent): a loopback redirect URI (`http://127.0.0.1:<port>/callback`, RFC 8252
   * §7.3), and when the browser comes back the response is checked and the code redeemed ({@link exchangeCode}).
   *
   * @example
   * const signIn = await agent.startLoopbackAuthorization({ scope: 'openid files:read', resource: mcpUrl });
   * console.log(`Open ${signIn.url}`);
   * const tokens = await signIn.tokens; // sub = the user, act = this agent
   * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
   */
  async startLoopbackAuthorization(request: LoopbackAuthorizationRequest = {}): Promise<LoopbackAuthorization> {
    const redeemOptions = request.actorToken === undefined ? {} : { actorToken: request.actorToken };
    return this.#requireApp('startLoopbackAuthorization').startLoopbackAuthorization(this.#withActor(request), (response) => this.exchangeCode(response, redeemOptions));
  }

  /**
   * The stored token set under `key`, refreshed when due ({@link AppAuthClient.getTokenSet}). Undefined when
   * nothing usable is stored; then the user has to authorize again.
   */
  async getDelegatedToken(key: string): Promise<DelegatedTokenSet | undefined> {
    return this.#requireApp('getDelegatedToken').getTokenSet(key);
  }

  /**
   * Refreshes a token set as the application ({@link AppAuthClient.refresh}: RFC 6749 §6, one refresh per set at a
   * time, rotated refresh token stored, `invalid_grant` deletes the set).
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
   */
  async refresh(tokens: DelegatedTokenSet | string, request: RefreshRequest = {}): Promise<DelegatedTokenSet> {
    return this.#requireApp('refresh').refresh(tokens, request);
  }

  /**
   * RFC 8693 token exchange by the agent, authenticated as itself: e.g. a user's on-behalf-of token for one
   * resource exchanged for another, or handed to a sub-agent (`audience` = its agent id). By default the agent's
   * actor token ({@link getActorToken}) goes along as `actor_token`, so the new token's `act` names this agent with the earlier chain nested
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
    if (request.actorToken === undefined) actorToken = (await this.getActorToken()).accessToken;
    else if (request.actorToken !== null) actorToken = request.actorToken;
    return exchangedToken(await this.#requestToken(tokenExchangeForm(request, actorToken, { audience, resource, scope })), scope);
  }

  /**
   * An access token for an RFC 7523 assertion (the `jwt-bearer` grant, §2.1), authenticated as this client: a
   * workload's JWT (workload identity federation, MCP SEP-1933), an identity chaining grant or an ID-JAG from
   * another domain. Never cached and never retried: a grant is single use, and a refusal (`invalid_grant`,
   * `invalid_scope`, `unauthorized_client`) is `ERR_TOKEN_REQUEST_FAILED` for the caller to act on.
   *
   * @example
   * const { accessToken } = await agent.getTokenByAssertion({ assertion: readFileSync(tokenPath, 'utf8'), resource: 'https://mcp.example.com/mcp' });
   * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
   */
  async getTokenByAssertion(request: AgentTokenRequest & { assertion: string }): Promise<AgentToken> {
    if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
    const scopes = normalizeList(request.scope, 'scope');
    const form = jwtBearerForm(request.assertion, scopes);
    for (const resource of resourceList(request.resource)) form.append('resource', resource);
    return agentTokenFrom(await this.#requestToken(form), scopes);
  }

  /**
   * Enterprise-managed authorization (MCP SEP-990, draft-ietf-oauth-identity-assertion-authz-grant): the user's ID
   * token from the enterprise identity provider is exchanged there for an ID-JAG naming this authorization server
   * (`audience`, default its issuer) and `resource` ({@link requestIdJag}), which is then redeemed here with
   * {@link getTokenByAssertion}. No browser, no consent screen: the IdP's policy decided.
   *
   * @example
   * const token = await client.getTokenByIdJag({ identityProvider: { tokenEndpoint: 'https://idp.example.com/token', clientId, clientSecret, idToken }, resource: mcpUrl, scope: 'files:read' });
   * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-identity-assertion-authz-grant/
   */
  async getTokenByIdJag(request: AgentTokenRequest & { identityProvider: IdentityProvider; audience?: string }): Promise<AgentToken> {
    if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
    const scope = normalizeList(request.scope, 'scope');
    const resources = resourceList(request.resource);
    if (resources.length > 1) throw new TypeError('an ID-JAG names one resource');
    const idJag = await requestIdJag(request.identityProvider, { audience: request.audience ?? this.issuer, ...(resources[0] !== undefined ? { resource: resources[0] } : {}), scope }, this.#http);
    return this.getTokenByAssertion({ assertion: idJag, scope, resource: resources });
  }

  /**
   * Revokes a token (RFC 7009). A {@link DelegatedTokenSet} is revoked as the application, by its refresh token
   * when it has one (on Mandate that ends the whole grant, and every access token issued from it), and deleted from
   * the store. A string is revoked as the agent unless `client: 'app'`; a revoked token of the agent's own is
   * dropped from the cache.
   */
  async revoke(token: string | DelegatedTokenSet, options: RevokeOptions = {}): Promise<void> {
    if (typeof token === 'object' && token !== null) return this.#requireApp('revoke').revoke(token);
    if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string or a DelegatedTokenSet');
    const hint = options.tokenTypeHint === undefined ? {} : { tokenTypeHint: options.tokenTypeHint };
    if (options.client === 'app') return this.#requireApp('revoke').revoke(token, hint);
    const metadata = await this.#metadata();
    const endpoint = metadata.revocation_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('revocation_endpoint');
    await revokeToken({ issuer: this.issuer, endpoint, tokenEndpoint: metadata.token_endpoint }, token, options.tokenTypeHint, this.#authenticate, this.#http);
    this.#tokens.drop(token);
  }

  #requireApp(operation: string): AppAuthClient {
    if (this.#app === undefined) throw new TypeError(`${operation} needs the app option (the OAuth application the user authorizes)`);
    return this.#app;
  }

  /** The request with `requested_actor` = this agent unless it names another agent or none (`null`). */
  #withActor<R extends AuthorizationRequest>(request: R): R {
    return { ...request, requestedActor: request.requestedActor === undefined ? this.clientId : request.requestedActor };
  }

  /**
   * Asks a person to approve, out of band (OpenID CIBA Core 1.0, poll mode): the request waits in the authorization
   * server's approval queue until an approver decides. `await (await agent.requestApproval(…)).tokens` resolves with
   * the user's tokens once approved, or rejects with `TokenRequestFailed` (`error`: `access_denied`,
   * `expired_token`). Waits on the approval events stream when offered (polling if it fails), else polls via `sleep`.
   * @see https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html#rfc.section.7
   */
  async requestApproval(request: ApprovalRequest): Promise<PendingApproval> {
    const metadata = await this.#metadata();
    const endpoint = metadata['backchannel_authentication_endpoint'];
    return requestBackchannelApproval(request, {
      issuer: this.issuer,
      backchannelEndpoint: typeof endpoint === 'string' && isAcceptableEndpoint(endpoint) ? endpoint : undefined,
      tokenEndpoint: metadata.token_endpoint !== undefined && isAcceptableEndpoint(metadata.token_endpoint) ? metadata.token_endpoint : undefined,
      eventsEndpoint: this.#approvalEvents && typeof metadata['approval_events_endpoint'] === 'string' && isAcceptableEndpoint(metadata['approval_events_endpoint']) ? metadata['approval_events_endpoint'] : undefined,
      authenticate: this.#authenticate,
      http: this.#http,
      sleep: this.#sleep,
    });
  }

  /**
   * Starts an RFC 8628 device authorization for a headless agent: show a person the returned `userCode` and
   * `verificationUri` (they sign in on any browser, enter it and approve), then `await authorization.waitForTokens()`,
   * which polls at the server's interval (+5 s after each `slow_down`) through the `sleep` option and stops when its
   * `signal` aborts. Resolves with the person's tokens; rejects with `TokenRequestFailed` (`access_denied`,
   * `expired_token`).
   * @see https://www.rfc-editor.org/rfc/rfc8628#section-3
   */
  async startDeviceAuthorization(request: DeviceAuthorizationRequest = {}): Promise<DeviceAuthorization> {
    const metadata = await this.#metadata();
    const endpoint = metadata['device_authorization_endpoint'];
    return startDeviceAuthorization(request, {
      issuer: this.issuer,
      deviceAuthorizationEndpoint: typeof endpoint === 'string' && isAcceptableEndpoint(endpoint) ? endpoint : undefined,
      tokenEndpoint: metadata.token_endpoint !== undefined && isAcceptableEndpoint(metadata.token_endpoint) ? metadata.token_endpoint : undefined,
      authenticate: this.#authenticate,
      http: this.#http,
      sleep: this.#sleep,
    });
  }

  /** Sends a grant to the discovered token endpoint with the agent's client authentication. */
  async #requestToken(form: URLSearchParams): Promise<TokenResponse> {
    const endpoint = (await this.#metadata()).token_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
    return requestToken({ issuer: this.issuer, endpoint, tokenEndpoint: endpoint }, form, this.#authenticate, this.#http);
  }
}

/** The members of `options` that are set, for passing on without writing `undefined` into optional properties. */
function pick<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key];
  return picked;
}
