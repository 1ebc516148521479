/**
 * An `OAuthClientProvider` for the MCP TypeScript SDK (1.x): the SDK's `auth()` drives the flow (discovery,
 * authorization URL, code exchange) and calls this provider at each step; the provider adds what the SDK leaves to
 * it or does not do: the checks of discovery (RFC 9728 §3.3 resource, RFC 8414 §3.3 issuer, S256), the choice of
 * client identity per authorization server (pre-registered, Client ID Metadata Document, RFC 7591 registration),
 * the scopes (union with those held, `offline_access` when listed), RFC 9207 `iss` and `state` checks before a code
 * is redeemed, a retry limit, the loopback redirect, tokens in a `TokenStore` refreshed before they expire, and
 * DPoP (RFC 9449) when asked.
 *
 * One interface implementation, method by method; the pieces that stand alone (options, redirects, client identity,
 * registration, discovery checks, scopes, the grants without a browser, DPoP) have their own modules.
 */
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { tokenSetFrom } from '../../agent/exchange-code.ts';
import { randomUrlSafe } from '../../agent/pkce.ts';
import type { TokenResponse } from '../../agent/token-request.ts';
import { MemoryTokenStore } from '../../agent/token-store.ts';
import type { DelegatedTokenSet, TokenStore } from '../../agent/token-store.ts';
import { fetchAuthorizationServerMetadata } from '../../discovery/authorization-server-metadata.ts';
import type { AuthorizationServerMetadata } from '../../discovery/authorization-server-metadata.ts';
import type { DpopProver } from '../../dpop/prover.ts';
import { MandateError, MetadataInvalid } from '../../errors.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';
import { ClientIdentities } from './client-identity.ts';
import type { ResolvedClient } from './client-identity.ts';
import { checkDiscovery } from './discovery-check.ts';
import type { CheckedDiscovery } from './discovery-check.ts';
import { ProviderDpop } from './dpop.ts';
import { refreshProviderSet } from './refresh.ts';
import { grantRequestForm } from './grant-request.ts';
import { checkProviderOptions, describeClient } from './options.ts';
import type { McpOAuthClientOptions } from './options.ts';
import { AuthorizationRedirects } from './redirect.ts';
import { clientMetadataDocument, clientMetadataMembers, MemoryClientRegistrationStore } from './registration.ts';
import { AuthorizationAttempts, registrationScopes, scopesToRequest } from './scopes.ts';

/** The token store key of an MCP server's tokens in one session. */
export function mcpTokenSetKey(serverUrl: string, session = 'default'): string {
  return JSON.stringify(['mandate/mcp-client/1', serverUrl, session]);
}

/**
 * The MCP TypeScript SDK's `OAuthClientProvider`, for `StreamableHTTPClientTransport`'s `authProvider`.
 *
 * @example
 * const provider = await McpOAuthClientProvider.create({ serverUrl: 'https://mcp.example.com/mcp', clientName: 'My agent', dpop: true });
 * const transport = new StreamableHTTPClientTransport(new URL(provider.serverUrl), { authProvider: provider, fetch: provider.fetch });
 * const client = new Client({ name: 'my-agent', version: '1.0.0' });
 * await connectWithAuthorization(client, transport, provider); // prints the sign-in URL, waits on the loopback redirect
 * await withAuthorization(provider, transport, () => client.callTool({ name: 'write_file', arguments: { … } })); // steps up on a 403
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export class McpOAuthClientProvider implements OAuthClientProvider {
  /** The MCP server this provider authorizes for. */
  readonly serverUrl: string;
  /** This client's Client ID Metadata Document URL, when it has one. */
  readonly clientMetadataUrl: string | undefined;
  /**
   * The `fetch` to give the transport (`{ authProvider: provider, fetch: provider.fetch }`): with `dpop`, it makes
   * the token requests of the MCP SDK's `auth()` DPoP requests and sends this provider's bound tokens with the
   * `DPoP` scheme and a proof (RFC 9449 §5, §7), each retried once for a nonce; without, the plain `fetch`.
   */
  readonly fetch: typeof fetch;
  readonly #options: McpOAuthClientOptions;
  readonly #codeFlow: boolean;
  readonly #http: HttpOptions & { clock: () => number };
  readonly #store: TokenStore;
  readonly #identities: ClientIdentities;
  readonly #tokenKey: string;
  /** The browser's way back; none for `client_credentials`. */
  readonly #redirects: AuthorizationRedirects | undefined;
  readonly #renewBeforeMs: number;
  readonly #attempts: AuthorizationAttempts;
  readonly #dpop: ProviderDpop | undefined;
  readonly #metadata = new Map<string, Promise<AuthorizationServerMetadata>>();
  #current: (CheckedDiscovery & { metadata: AuthorizationServerMetadata }) | undefined;
  #client: ResolvedClient | undefined;
  #issuedState: string | undefined;
  #issuedVerifier: string | undefined;
  #refreshing: Promise<DelegatedTokenSet | undefined> | undefined;

  constructor(options: McpOAuthClientOptions) {
    const { serverUrl, grantType, maxAttempts, renewBeforeMs } = checkProviderOptions(options);
    const client = options.client;
    this.#codeFlow = grantType === 'authorization_code';
    this.serverUrl = serverUrl;
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.#options = options;
    this.#http = { clock: options.clock ?? Date.now };
    if (options.fetch !== undefined) this.#http.fetch = options.fetch;
    if (options.httpTimeoutMs !== undefined) this.#http.httpTimeoutMs = options.httpTimeoutMs;
    this.#store = options.tokenStore ?? new MemoryTokenStore();
    this.#tokenKey = mcpTokenSetKey(serverUrl, options.session);
    this.#redirects = this.#codeFlow ? new AuthorizationRedirects(options.redirect, this.#http.clock) : undefined;
    this.#renewBeforeMs = renewBeforeMs;
    this.#attempts = new AuthorizationAttempts(maxAttempts, this.#http.clock);
    this.#dpop = options.dpop === undefined || options.dpop === false ? undefined : new ProviderDpop(options.dpop, this.#http.clock, options.fetch ?? fetch);
    this.fetch = this.#dpop?.fetch ?? options.fetch ?? ((input, init) => fetch(input, init));
    this.#identities = new ClientIdentities({
      preRegistered: client,
      clientMetadataUrl: options.clientMetadataUrl,
      codeFlow: this.#codeFlow,
      registrations: options.registrationStore ?? new MemoryClientRegistrationStore(),
      describe: () => describeClient(this.#options, this.#redirects),
      assertionAudience: options.assertionAudience,
      http: this.#http,
    });
  }

  /** Creates a provider and {@link start}s it. */
  static async create(options: McpOAuthClientOptions): Promise<McpOAuthClientProvider> {
    const provider = new McpOAuthClientProvider(options);
    await provider.start();
    return provider;
  }

  /** Binds the loopback redirect listener (RFC 8252 §7.3), which fixes `redirectUrl`. Nothing to do otherwise. */
  async start(): Promise<void> {
    await this.#redirects?.start();
  }

  /** Stops the loopback listener. */
  async close(): Promise<void> {
    await this.#redirects?.close();
  }

  /** The DPoP key of this provider's tokens (option `dpop`), e.g. to call other endpoints of the server with `prover.fetch`. */
  get dpop(): DpopProver | undefined {
    return this.#dpop?.prover;
  }

  /** The token store holding this server's tokens (under {@link mcpTokenSetKey}). */
  get tokenStore(): TokenStore {
    return this.#store;
  }

  // ---- OAuthClientProvider: identity ----

  /** Where the browser comes back; undefined for `client_credentials` (the SDK then fetches tokens directly). */
  get redirectUrl(): string | undefined {
    if (this.#redirects === undefined) return undefined;
    const uri = this.#redirects.redirectUri;
    if (uri === undefined) throw new TypeError('the loopback redirect has no port yet: await provider.start() (or McpOAuthClientProvider.create) first');
    return uri;
  }

  /** RFC 7591 §2 metadata of this client (what it registers and what its metadata document says). */
  get clientMetadata(): OAuthClientMetadata {
    const members = clientMetadataMembers(describeClient(this.#options, this.#redirects));
    if (this.#options.scope !== undefined) members['scope'] = this.#options.scope;
    return members as OAuthClientMetadata;
  }

  /** The Client ID Metadata Document to serve at `clientMetadataUrl` (draft-ietf-oauth-client-id-metadata-document §3). */
  clientMetadataDocument(): Record<string, unknown> {
    if (this.clientMetadataUrl === undefined) throw new TypeError('no clientMetadataUrl was configured');
    return clientMetadataDocument(this.clientMetadataUrl, describeClient(this.#options, this.#redirects));
  }

  /**
   * The client identity for the authorization server of this run, in the MCP order (2026-07-28, "Client
   * Registration Approaches"): pre-registered credentials meant for it; else the Client ID Metadata Document URL
   * when the AS supports them; else a registration (RFC 7591) made now and kept per issuer; else
   * `ERR_CLIENT_UNIDENTIFIED`. Credentials are never presented to another issuer (MCP-C-08).
   */
  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    const current = this.#requireCurrent();
    const client = await this.#identities.resolve(current.issuer, current.metadata, { register: true, scope: registrationScopes(current.resourceMetadata, current.metadata, this.#options.offlineAccess !== false) });
    this.#client = client;
    const information: OAuthClientInformationMixed = { client_id: client.clientId, issuer: current.issuer };
    if (client.clientSecret !== undefined) information.client_secret = client.clientSecret;
    return information;
  }

  /**
   * Client authentication at the token endpoint, by the registered method (RFC 6749 §2.3.1 with form-encoding,
   * RFC 7523). A bound function: the SDK calls it detached from the provider.
   */
  readonly addClientAuthentication = async (headers: Headers, params: URLSearchParams, url: string | URL): Promise<void> => {
    const current = this.#requireCurrent();
    const client = this.#client ?? (await this.#identities.resolve(current.issuer, current.metadata, { register: false }));
    const tokenEndpoint = typeof current.metadata.token_endpoint === 'string' ? current.metadata.token_endpoint : undefined;
    await this.#identities.authentication(client, current.metadata)(params, headers, { issuer: current.issuer, endpoint: String(url), tokenEndpoint });
  };

  // ---- OAuthClientProvider: discovery ----

  /**
   * Called by the SDK after each discovery: the checks it leaves to the provider ({@link checkDiscovery}), and this
   * provider's own copy of the authorization server's metadata, complete (the SDK drops members of OpenID
   * documents, `authorization_response_iss_parameter_supported` among them).
   */
  async saveDiscoveryState(state: OAuthDiscoveryState): Promise<void> {
    const checked = checkDiscovery(state, this.serverUrl, this.#codeFlow);
    const redeeming = this.#redirects?.redeeming;
    // A code is redeemed only at the issuer it came from: the response's `iss` was checked against that one.
    if (redeeming !== undefined && redeeming.issuer !== checked.issuer) {
      this.#redirects?.forgetRedemption();
      throw new MetadataInvalid('authorization_servers');
    }
    const metadata = await this.#metadataFor(checked.issuer);
    if (this.#current?.issuer !== checked.issuer) this.#client = undefined;
    this.#current = { ...checked, metadata };
  }

  // ---- OAuthClientProvider: authorization ----

  /** A fresh `state` for the next authorization request (RFC 6749 §10.12). */
  state(): string {
    this.#issuedState = randomUrlSafe();
    return this.#issuedState;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#issuedVerifier = codeVerifier;
  }

  /** The PKCE verifier of the response whose code the SDK is redeeming (RFC 7636 §4.5). */
  codeVerifier(): string {
    const redeeming = this.#redirects?.redeeming;
    if (redeeming === undefined) throw new TypeError('no verified authorization response: pass the callback to handleCallback() before transport.finishAuth()');
    return redeeming.codeVerifier;
  }

  /**
   * Shows the user the authorization URL the SDK built, after adjusting its scopes: the union of those the current
   * tokens hold (same issuer) and those asked for (MCP 2026-07-28 step-up, SEP-2350: re-authorizing never drops what
   * was granted), plus `offline_access` when the AS lists it (MCP 2026-07-28, SEP-2207). The request is remembered
   * with its issuer, `state` and verifier (MCP-C-07); more than `maxAuthorizationAttempts` in a row for the same
   * scopes is `ERR_AUTHORIZATION_LIMIT`, and nothing is shown.
   */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    const current = this.#requireCurrent();
    const redirects = this.#requireRedirects();
    const params = authorizationUrl.searchParams;
    const state = params.get('state');
    if (state === null || state !== this.#issuedState || this.#issuedVerifier === undefined) throw new TypeError('the authorization URL does not carry the state this provider issued');
    const held = await this.#store.get(this.#tokenKey);
    const scope = scopesToRequest(params.get('scope'), held?.issuer === current.issuer ? held : undefined, current.metadata, this.#options.offlineAccess !== false);
    if (scope.length === 0) params.delete('scope');
    else params.set('scope', scope.join(' '));
    // RFC 9449 §10: the code is bound to the key too, so that only this client can redeem it.
    if (this.#dpop !== undefined) params.set('dpop_jkt', this.#dpop.prover.jkt);
    this.#attempts.count(scope, held);
    await redirects.expect({
      issuer: current.issuer,
      issParameterSupported: current.metadata.authorization_response_iss_parameter_supported === true,
      clientId: params.get('client_id') ?? '',
      redirectUri: params.get('redirect_uri') ?? '',
      state,
      codeVerifier: this.#issuedVerifier,
      scope,
      resource: params.getAll('resource'),
      expiresAtMs: this.#http.clock() + 600_000,
    });
    this.#issuedState = undefined;
    const show = this.#options.onAuthorizationUrl ?? ((url: URL) => void process.stderr.write(`Open this URL to authorize ${this.serverUrl}:\n${url.href}\n`));
    await show(authorizationUrl);
  }

  /**
   * Checks the browser's return to the redirect URI and returns the code to pass to `transport.finishAuth()`:
   * `state` (single use), RFC 9207 `iss` (refused when missing but advertised, or not the issuer by simple string
   * comparison), `error`, exactly one `code`. The loopback listener calls it; an application with its own redirect
   * URI calls it from there. Throws the coded `ERR_AUTHORIZATION_*` errors; a refused response's code is never redeemed.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
   */
  handleCallback(callbackUrl: string | URL): string {
    if (!(callbackUrl instanceof URL) && (typeof callbackUrl !== 'string' || !URL.canParse(callbackUrl))) throw new TypeError('callbackUrl must be an absolute URL');
    return this.#requireRedirects().handle(new URL(callbackUrl));
  }

  /** The code of the authorization last started, once the browser came back and the response passed the checks. */
  waitForAuthorizationCode(): Promise<string> {
    return this.#requireRedirects().next();
  }

  /** Forgets the authorization attempts counted so far (after a call succeeded; `withAuthorization` does it). */
  resetAuthorizationAttempts(): void {
    this.#attempts.reset();
  }

  /** The token request of the grants without a browser ({@link grantRequestForm}); none for the code flow. */
  async prepareTokenRequest(): Promise<URLSearchParams | undefined> {
    if (this.#codeFlow) return undefined;
    return grantRequestForm(this.#options, this.#requireCurrent(), this.#http);
  }

  // ---- OAuthClientProvider: tokens ----

  /**
   * The access token for this server, refreshed first when it expires within the renewal window (RFC 6749 §6,
   * rotated refresh token stored). The refresh token itself is never handed to the SDK: its `auth()` would use it
   * instead of re-authorizing after a 403, and a refresh cannot add scopes. Tokens of another issuer than the
   * server's current one are not used (MCP-C-08).
   */
  async tokens(): Promise<OAuthTokens | undefined> {
    let set = await this.#store.get(this.#tokenKey);
    if (set === undefined || (this.#current !== undefined && set.issuer !== this.#current.issuer)) return undefined;
    // A bound set whose key is gone (stored by an earlier process without storeDpopKey) is of no use: authorize anew.
    if (this.#dpop !== undefined && !this.#dpop.canPresent(set)) return undefined;
    const now = this.#http.clock();
    if (set.expiresAt !== undefined && set.refreshToken !== undefined) {
      const lifetimeMs = (set.expiresAt - set.updatedAt) * 1000;
      if (now >= set.expiresAt * 1000 - Math.min(this.#renewBeforeMs, lifetimeMs / 2)) set = (await this.#refresh(set)) ?? set;
    }
    if (set.expiresAt !== undefined && now >= set.expiresAt * 1000) return undefined;
    this.#dpop?.present(set);
    const tokens: OAuthTokens = { access_token: set.accessToken, token_type: set.tokenType, issuer: set.issuer };
    if (set.scope.length > 0) tokens.scope = set.scope.join(' ');
    if (set.expiresAt !== undefined) tokens.expires_in = Math.max(0, Math.floor(set.expiresAt - now / 1000));
    return tokens;
  }

  /** Stores the token response of a code redemption or `client_credentials` grant, bound to its issuer and resource. */
  async saveTokens(tokens: OAuthTokens): Promise<void> {
    const current = this.#requireCurrent();
    this.#dpop?.assertSeen(tokens.access_token);
    const redeeming = this.#redirects?.redeeming;
    this.#redirects?.forgetRedemption();
    const response: TokenResponse = { accessToken: tokens.access_token, tokenType: tokens.token_type, raw: { ...tokens } };
    if (tokens.expires_in !== undefined) response.expiresAt = Math.floor(this.#http.clock() / 1000) + tokens.expires_in;
    if (tokens.scope !== undefined) response.scope = tokens.scope;
    if (tokens.refresh_token !== undefined) response.refreshToken = tokens.refresh_token;
    const scope = tokens.scope !== undefined ? tokens.scope.split(' ').filter((s) => s !== '') : (redeeming?.scope ?? []);
    const clientId = this.#client?.clientId ?? redeeming?.clientId ?? '';
    const facts = { scope, resource: [current.resource], actor: undefined, idToken: undefined, previous: undefined, dpop: this.#dpop?.prover };
    const set = { ...tokenSetFrom(response, facts, { issuer: current.issuer, appClientId: clientId, clock: this.#http.clock, storeDpopKey: this.#options.storeDpopKey }), key: this.#tokenKey };
    await this.#store.set(this.#tokenKey, set);
    this.#dpop?.obtained(set);
  }

  /** Drops what the SDK says is no longer valid (after `invalid_client`, `unauthorized_client` or `invalid_grant`). */
  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    const issuer = this.#current?.issuer;
    if ((scope === 'all' || scope === 'client') && issuer !== undefined) {
      await this.#identities.forget(issuer, this.#client);
      this.#client = undefined;
    }
    if (scope === 'all' || scope === 'tokens') await this.#store.delete(this.#tokenKey);
    if (scope === 'all' || scope === 'verifier') this.#redirects?.forgetRedemption();
    if ((scope === 'all' || scope === 'discovery') && issuer !== undefined) this.#metadata.delete(issuer);
  }

  // ---- internals ----

  #requireRedirects(): AuthorizationRedirects {
    if (this.#redirects === undefined) throw new TypeError('a client_credentials provider has no authorization redirects');
    return this.#redirects;
  }

  #requireCurrent(): CheckedDiscovery & { metadata: AuthorizationServerMetadata } {
    if (this.#current === undefined) throw new TypeError('no discovery has run: this provider is driven by the MCP SDK’s auth()');
    return this.#current;
  }

  /** This provider's complete copy of an issuer's metadata (RFC 8414 §3.3 checked), fetched once. */
  #metadataFor(issuer: string): Promise<AuthorizationServerMetadata> {
    let metadata = this.#metadata.get(issuer);
    if (metadata === undefined) {
      metadata = fetchAuthorizationServerMetadata(issuer, this.#http);
      this.#metadata.set(issuer, metadata);
      metadata.catch(() => this.#metadata.delete(issuer));
    }
    return metadata;
  }

  /** One refresh at a time (a second use of a rotated refresh token revokes the grant, BCP-04); undefined if it failed. */
  #refresh(set: DelegatedTokenSet): Promise<DelegatedTokenSet | undefined> {
    this.#refreshing ??= this.#doRefresh(set).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #doRefresh(set: DelegatedTokenSet): Promise<DelegatedTokenSet | undefined> {
    const metadata = await this.#metadataFor(set.issuer).catch((err: unknown) => {
      if (err instanceof MandateError) return undefined;
      throw err;
    });
    if (metadata === undefined) return undefined;
    const deps = { metadata, identities: this.#identities, store: this.#store, http: this.#http, dpop: this.#dpop?.prover, storeDpopKey: this.#options.storeDpopKey };
    const refreshed = await refreshProviderSet(set, deps);
    if (refreshed !== undefined) this.#dpop?.obtained(refreshed);
    return refreshed;
  }
}
