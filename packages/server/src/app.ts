import type { FastifyInstance } from 'fastify';
import type { AuditLog } from './audit/audit-log.ts';
import type { RefusalAudit } from './audit/refusal-audit.ts';
import type { MandateConfig } from './config.ts';
import { accountEndpoints } from './endpoints/account.ts';
import { consoleRoutes } from './endpoints/console/console-routes.ts';
import { signupEndpoints } from './endpoints/signup.ts';
import { adminTokenRoutes } from './endpoints/admin/admin-tokens.ts';
import type { AdminApiDeps } from './endpoints/admin/admin-route.ts';
import { adminAgentRoutes } from './endpoints/admin/agents.ts';
import { adminAuditAndKeyRoutes } from './endpoints/admin/audit-and-keys.ts';
import { adminDelegationRoutes, type ExchangeCheck } from './endpoints/admin/delegation.ts';
import { adminClientRoutes } from './endpoints/admin/clients.ts';
import { adminApprovalRoutes } from './endpoints/admin/approvals.ts';
import { adminResourceRoutes } from './endpoints/admin/resources.ts';
import { adminRevocationWebhookRoutes } from './endpoints/admin/revocation-webhooks.ts';
import { adminApprovalWebhookRoutes } from './endpoints/admin/approval-webhooks.ts';
import { adminUserRoutes } from './endpoints/admin/users.ts';
import { authorizationEndpoints } from './endpoints/authorize.ts';
import { healthEndpoints } from './endpoints/health.ts';
import { introspectionEndpoint } from './endpoints/introspect.ts';
import { revocationEventsEndpoint } from './endpoints/revocation-events.ts';
import { actionUsesEndpoint } from './endpoints/action-uses.ts';
import { toolCallsEndpoint } from './endpoints/tool-calls.ts';
import { actionUseFlow } from './flows/action-use.ts';
import { toolCallAuditFlow } from './flows/tool-call-audit.ts';
import { loginEndpoints } from './endpoints/login.ts';
import { jwksEndpoint, metadataEndpoints } from './endpoints/metadata.ts';
import { passkeyEndpoints } from './endpoints/passkeys.ts';
import { registrationEndpoints } from './endpoints/register.ts';
import { revocationEndpoint } from './endpoints/revoke.ts';
import { staticAssetRoutes } from './endpoints/static-assets.ts';
import { backchannelAuthenticationEndpoint } from './endpoints/backchannel-authentication.ts';
import { approvalEventsEndpoint } from './endpoints/approval-events.ts';
import { approvalStatusFlow } from './flows/approval-status.ts';
import { deviceAuthorizationEndpoint } from './endpoints/device-authorization.ts';
import { deviceVerificationEndpoints } from './endpoints/device-verification.ts';
import { tokenEndpoint } from './endpoints/token.ts';
import { upstreamCallbackPath, upstreamLoginEndpoints } from './endpoints/upstream-login.ts';
import { userinfoEndpoints } from './endpoints/userinfo.ts';
import { accountFlow } from './flows/account.ts';
import { authorizationFlow } from './flows/authorize.ts';
import { backchannelAuthenticationFlow } from './flows/backchannel-authentication.ts';
import { deviceAuthorizationFlow } from './flows/device-authorization.ts';
import { authorizationClients } from './flows/authorization-clients.ts';
import { type PushedAuthorizationFlow, pushedAuthorizationFlow } from './flows/pushed-authorization.ts';
import { pushedAuthorizationEndpoint } from './endpoints/pushed-authorization.ts';
import { metadataDocumentFlow } from './flows/client-metadata-document.ts';
import { clientRegistrationFlow } from './flows/client-registration.ts';
import { type ResolveHost, systemResolver } from './flows/metadata-document-fetch.ts';
import { introspectionFlow } from './flows/introspection.ts';
import { trustedIssuerKeys } from './flows/trusted-issuer-keys.ts';
import { withCrossDomainExchange } from './grants/cross-domain-exchange.ts';
import { jwtBearerGrant, jwtDpopGrant } from './grants/jwt-bearer.ts';
import { revocationEventsFlow } from './flows/revocation-events.ts';
import { passkeyFlow } from './flows/passkeys.ts';
import { revocationFlow } from './flows/revocation.ts';
import { upstreamLoginFlow } from './flows/upstream-login.ts';
import { userinfoFlow } from './flows/userinfo.ts';
import { authorizationCodeGrant } from './grants/authorization-code.ts';
import { cibaGrant } from './grants/ciba.ts';
import { deviceCodeGrant } from './grants/device-code.ts';
import { clientCredentialsGrant } from './grants/client-credentials.ts';
import type { Grant } from './grants/grant.ts';
import { refreshTokenGrant } from './grants/refresh-token.ts';
import { type DownstreamExchange, downstreamExchange } from './grants/downstream-exchange.ts';
import { tokenExchangeGrant } from './grants/token-exchange.ts';
import { transactionTokenService } from './grants/transaction-token.ts';
import type { UserTokenDeps } from './grants/user-tokens.ts';
import { BrowserSessions } from './http/browser-session.ts';
import { endpointPaths, endpointUrl, userEndpointPaths } from './http/endpoint-paths.ts';
import { createHttpApp, type HttpAppOptions } from './http/fastify-app.ts';
import { RateLimiter } from './http/rate-limit.ts';
import type { ServerMetrics } from './http/metrics.ts';
import { routeHooksByAccess } from './http/route-guards.ts';
import type { SharedRateCounts } from './http/shared-rate-counts.ts';
import type { RouteDefinition } from './http/route.ts';
import type { ClientAuthDeps } from './oauth/client-authentication.ts';
import { dpopDeps } from './oauth/dpop.ts';
import type { KeyRing } from './keys/key-ring.ts';
import type { TokenLifecycleDeps } from './lifecycle/token-lifecycle.ts';
import type { Store } from './store/store.ts';
import { UpstreamProviders } from './users/upstream-oidc.ts';

/**
 * The composition root: the only module that imports every endpoint, grant and flow. Each of them declares the
 * narrow dependencies it calls (store slices as `Pick<…Records, …>`, settings, the key ring); this is where they
 * meet the one store, the configuration and each other. Nothing else holds the whole store.
 */

/** What the server is built from besides its store. */
export interface ServerContext {
  readonly config: MandateConfig;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  /** Audit rows of refused requests, counted rather than written one each (SR-20). */
  readonly refusals: RefusalAudit;
  /** The secret DPoP nonces are made from (derived from the KEK, so the same on every instance). */
  readonly dpopNonceSecret: Buffer;
  /** The key revocation-webhook secrets are encrypted under (derived from the KEK). */
  readonly webhookSecretKey: Buffer;
  /** The key RFC 8628 user codes are stored under (derived from the KEK). */
  readonly userCodeKey: Buffer;
  /** Current time in epoch seconds (injectable for tests). */
  now(): number;
  /** DNS resolution for client metadata documents (injectable for tests; the system resolver otherwise). */
  readonly resolveHost?: ResolveHost;
  /** True once shutdown began (`/readyz` answers 503, responses close their connections). */
  draining(): boolean;
  /** Prometheus counters, when `metrics.port` is set. */
  readonly metrics?: ServerMetrics;
  /** Token-endpoint request counts shared with the other instances on the database (synced by server.ts). */
  readonly sharedRateCounts?: SharedRateCounts;
}

/** The trust domain of Transaction Tokens: configured, or the issuer. */
const trustDomainOf = (config: MandateConfig): string => config.transactionTokens.trustDomain ?? config.issuer;

/** The grants of the token endpoint, by `grant_type`, with their dependencies. */
function assembleGrants(
  ctx: ServerContext,
  store: Store,
  lifecycle: TokenLifecycleDeps,
  clientAuth: ClientAuthDeps,
): { grants: Map<string, Grant>; exchange: ExchangeCheck; downstream: DownstreamExchange } {
  const { config, keys } = ctx;
  const lifetimes = { defaultAccessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds, maxAccessTokenTtlSeconds: config.tokens.maxAccessTokenTtlSeconds };
  const userTokens: UserTokenDeps = {
    keys,
    issuer: config.issuer,
    userinfoUrl: lifecycle.userinfoUrl,
    ...lifetimes,
    idTokenTtlSeconds: config.authorization.idTokenTtlSeconds,
    refreshTokenIdleTtlSeconds: config.authorization.refreshTokenIdleTtlSeconds,
    // FAPI 2.0 Security Profile §5.3.2.1: no refresh token rotation.
    rotateRefreshTokens: !config.fapi2SecurityProfile,
    resources: store,
    policies: store,
  };
  const exchange = tokenExchangeGrant({
    keys,
    issuer: config.issuer,
    clients: store,
    users: store,
    resources: store,
    lifecycle,
    policies: store,
    lineage: store,
    clientAuth,
    ...lifetimes,
    maxChainDepth: config.delegation.maxChainDepth,
    allowImpersonation: config.delegation.allowImpersonation,
  });
  const grants: Grant[] = [
    clientCredentialsGrant({ resources: store, approvals: store, keys, issuer: config.issuer, ...lifetimes }),
    authorizationCodeGrant({ ...userTokens, grants: store, lifecycle, clientAuth, audit: ctx.audit }),
    refreshTokenGrant({ ...userTokens, grants: store, lifecycle, audit: ctx.audit }),
    ...crossDomainGrants(ctx, store, lifecycle, clientAuth, exchange),
    cibaGrant({ ...userTokens, approvals: store, grants: store, users: store, refreshTokenFamilyTtlSeconds: config.authorization.refreshTokenFamilyTtlSeconds }),
    deviceCodeGrant({ ...userTokens, devices: store, grants: store, users: store, refreshTokenFamilyTtlSeconds: config.authorization.refreshTokenFamilyTtlSeconds }),
  ];
  // Token exchange by a resource server with its API key (not a grant of a client: the token endpoint routes it).
  const downstream = downstreamExchange({ keys, issuer: config.issuer, resources: store, lifecycle, policies: store, lineage: store, users: store, maxChainDepth: config.delegation.maxChainDepth, defaultAccessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds });
  const check: ExchangeCheck = { parse: (params) => exchange.parse(params), check: (input) => exchange.check(input), checkDownstream: (input) => downstream.check(input) };
  return { grants: new Map(grants.map((grant) => [grant.grantType, grant])), exchange: check, downstream };
}

/**
 * Token exchange, with ID-JAGs and identity chaining grants for the configured peers, and the `jwt-bearer` grant
 * when an issuer is trusted (docs/cross-domain.md): neither is offered, nor advertised, without its configuration.
 */
function crossDomainGrants(ctx: ServerContext, store: Store, lifecycle: TokenLifecycleDeps, clientAuth: ClientAuthDeps, exchange: Grant): Grant[] {
  const { config, keys } = ctx;
  const cross = config.crossDomain;
  const grants: Grant[] = [
    cross.peers.length === 0
      ? exchange
      : withCrossDomainExchange(exchange, { keys, issuer: config.issuer, lifecycle, users: store, peers: cross.peers, grantTtlSeconds: cross.grantTtlSeconds }),
  ];
  if (cross.trustedIssuers.length > 0) {
    const issuerKeys = trustedIssuerKeys({
      fetch: { resolveHost: ctx.resolveHost ?? systemResolver, timeoutMs: config.clientMetadataDocuments.timeoutMs, allowHttpLocalhost: cross.allowHttpLocalhost },
      cacheSeconds: cross.jwksCacheSeconds,
      maxStaleSeconds: cross.jwksMaxStaleSeconds,
      now: ctx.now,
    });
    const jwtBearer = jwtBearerGrant({
        keys,
        issuer: config.issuer,
        tokenEndpoint: clientAuth.tokenEndpoint,
        trustedIssuers: cross.trustedIssuers,
        issuerKeys,
        replay: store,
        users: store,
        grants: store,
        resources: store,
        clockSkewSeconds: config.tokens.clockSkewSeconds,
        assertionMaxTtlSeconds: cross.assertionMaxTtlSeconds,
        defaultAccessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
        maxAccessTokenTtlSeconds: config.tokens.maxAccessTokenTtlSeconds,
    });
    grants.push(jwtBearer, jwtDpopGrant(jwtBearer));
  }
  return grants;
}

/** How the authorization endpoints find clients (metadata documents, expiring registrations), and RFC 9126 requests over them. */
interface AuthorizationRequests {
  clients: ReturnType<typeof authorizationClients>;
  pushed: PushedAuthorizationFlow;
  parRequired: boolean;
}

function authorizationRequests(ctx: ServerContext, store: Store): AuthorizationRequests {
  const { config } = ctx;
  const documents = config.clientMetadataDocuments.enabled
    ? metadataDocumentFlow({ clients: store, registrations: store, resources: store, audit: ctx.audit, settings: config.clientMetadataDocuments,
        resolveHost: ctx.resolveHost ?? systemResolver, allowDeviceGrant: config.registration.allowDeviceGrant })
    : null;
  const { clientMetadataDocuments: documentSettings, registration } = config;
  const clients = authorizationClients({ clients: store, registrations: store, documents, documentSettings, unusedClientTtlSeconds: registration.unusedClientTtlSeconds, now: ctx.now });
  const fapi2 = config.fapi2SecurityProfile;
  const parRequired = config.authorization.requirePushedAuthorizationRequests || fapi2;
  const pushed = pushedAuthorizationFlow({ clients, resources: store, parRequired, records: store, ttlSeconds: config.authorization.pushedRequestTtlSeconds, redirectUriRequired: fapi2 });
  return { clients, pushed, parRequired };
}

/** The OAuth endpoints (RFC 6749, 7662, 7009, 9126, OIDC UserInfo), their flows, metadata and keys. */
function oauthRoutes(ctx: ServerContext, store: Store, requests: AuthorizationRequests): { routes: RouteDefinition[]; exchange: ExchangeCheck } {
  const { config, keys, audit, now } = ctx;
  const { issuer } = config;
  const userinfoUrl = endpointUrl(issuer, userEndpointPaths.userinfo);
  // Every use of a token and every refresh asks the lifecycle module whether its chain still stands (SR-01, SR-02).
  const lifecycle: TokenLifecycleDeps = { revocations: store, clients: store, grants: store, users: store, resources: store, userinfoUrl, issuer };
  const clientAuth: ClientAuthDeps = {
    clients: store,
    replay: store,
    issuer,
    tokenEndpoint: endpointUrl(issuer, endpointPaths.token),
    clockSkewSeconds: config.tokens.clockSkewSeconds,
    clientAssertionMaxTtlSeconds: config.tokens.clientAssertionMaxTtlSeconds,
    // FAPI 2.0 Security Profile §5.3.2.1: no client secrets, no public clients.
    ...(config.fapi2SecurityProfile ? { allowedMethods: ['private_key_jwt'] as const } : {}),
  };
  const parUrl = endpointUrl(issuer, endpointPaths.pushedAuthorization);
  const { grants, exchange, downstream } = assembleGrants(ctx, store, lifecycle, clientAuth);
  // DPoP proof `jti`s are recorded in the replay markers every instance shares.
  const dpop = dpopDeps(config, ctx.dpopNonceSecret, store);
  // Txn-Tokens (issue 11 item 5) of this trust domain: their chain is checked at replacement and introspection alike.
  const transactionTokenLife = { keys, issuer, trustDomain: trustDomainOf(config), lifecycle, records: store, clients: store, resources: store };
  const introspection = introspectionFlow({ resources: store, adminTokens: store, clientAuth, keys, issuer, lifecycle, transactionTokens: transactionTokenLife });
  const revocation = revocationFlow({ grants: store, revocations: store, keys, issuer, audit });
  const userinfo = userinfoFlow({ keys, issuer, userinfoUrl, lifecycle, users: store, dpop });
  const registration = config.registration.mode === 'off' ? null : registrationRoutes(ctx, store);
  const routes = [
    ...metadataEndpoints(
      {
        issuer,
        keys,
        resources: store,
        registrationEndpoint: registration ? endpointUrl(issuer, endpointPaths.registration) : null,
        clientIdMetadataDocuments: config.clientMetadataDocuments.enabled,
        crossDomain: { hasPeers: config.crossDomain.peers.length > 0, acceptsIdJag: config.crossDomain.trustedIssuers.some((t) => t.assertions.includes('id-jag')) },
        requirePushedAuthorizationRequests: requests.parRequired,
        fapi2: config.fapi2SecurityProfile,
      },
      grants,
    ),
    ...(registration ?? []),
    jwksEndpoint(keys),
    tokenEndpoint({
      grants,
      transactionTokens: transactionTokenService({ ...transactionTokenLife, ttlSeconds: config.transactionTokens.ttlSeconds, records: store, lineage: store }),
      clientAuth,
      audit,
      refusals: ctx.refusals,
      rateLimit: config.rateLimit,
      dpop,
      dpopRequired: config.fapi2SecurityProfile,
      tokenEndpointUrl: clientAuth.tokenEndpoint,
      now,
      metrics: ctx.metrics,
      sharedRateCounts: ctx.sharedRateCounts,
      downstream: { resources: store, exchange: downstream },
    }),
    pushedAuthorizationEndpoint({
      flow: requests.pushed,
      clientAuth: { ...clientAuth, extraAudiences: [parUrl] },
      dpop,
      endpointUrl: parUrl,
      requestsPerIpPerMinute: config.rateLimit.tokenPerIpPerMinute,
      now,
    }),
    backchannelAuthenticationEndpoint({ flow: backchannelAuthenticationFlow({ users: store, resources: store, approvals: store, audit, pingSealKey: ctx.webhookSecretKey }), clientAuth, now }),
    approvalEventsEndpoint({
      flow: approvalStatusFlow({ approvals: store }),
      clientAuth,
      now,
      pollMs: config.revocationEventsPollMs,
      draining: ctx.draining,
      rateLimit: config.rateLimit,
      sharedRateCounts: ctx.sharedRateCounts,
    }),
    deviceAuthorizationEndpoint({ flow: deviceFlow(ctx, store), clientAuth, requestsPerIpPerMinute: config.device.requestsPerIpPerMinute, now, sharedRateCounts: ctx.sharedRateCounts }),
    introspectionEndpoint(introspection, now),
    // Per-action approvals and tool-call audit (issue 12 items 4, 7): resource servers call them with their API key.
    actionUsesEndpoint({ flow: actionUseFlow({ keys, issuer, lifecycle, uses: store, revocations: store, audit }), resources: store, now }),
    toolCallsEndpoint({ flow: toolCallAuditFlow({ audit }), resources: store, now }),
    revocationEventsEndpoint(revocationEventsFlow({ resources: store, events: store }), { now, pollMs: config.revocationEventsPollMs, draining: ctx.draining }),
    revocationEndpoint(revocation, { clientAuth, now }),
    ...userinfoEndpoints(userinfo, dpop, now),
  ];
  return { routes, exchange };
}

/** RFC 8628: the device authorization request and the verification page's steps (one flow, two faces). */
function deviceFlow(ctx: ServerContext, store: Store) {
  const { config } = ctx;
  return deviceAuthorizationFlow({
    clients: store,
    registrations: store,
    resources: store,
    users: store,
    devices: store,
    audit: ctx.audit,
    settings: config.device,
    verificationUri: endpointUrl(config.issuer, userEndpointPaths.device),
    userCodeKey: ctx.userCodeKey,
  });
}

/** RFC 7591 registration and RFC 7592 management of registered clients. */
function registrationRoutes(ctx: ServerContext, store: Store): RouteDefinition[] {
  const { config } = ctx;
  const flow = clientRegistrationFlow({
    clients: store,
    registrations: store,
    resources: store,
    grants: store,
    audit: ctx.audit,
    settings: config.registration,
    softwareStatements: config.registration.softwareStatementIssuers,
    registrationEndpoint: endpointUrl(config.issuer, endpointPaths.registration),
    jwksFetch: {
      resolveHost: ctx.resolveHost ?? systemResolver,
      timeoutMs: config.clientMetadataDocuments.timeoutMs,
      allowHttpLocalhost: config.clientMetadataDocuments.allowHttpLocalhost,
    },
  });
  return registrationEndpoints(flow, { perIpPerMinute: config.registration.perIpPerMinute, now: ctx.now });
}

/** The pages a person sees: authorization and consent, login (password, passkey, upstream), account. */
function browserRoutes(ctx: ServerContext, store: Store, sessions: BrowserSessions, requests: AuthorizationRequests): RouteDefinition[] {
  const { config, audit, now } = ctx;
  const { issuer } = config;
  const authorization = authorizationFlow({
    clients: requests.clients,
    pushed: requests.pushed,
    parRequired: requests.parRequired,
    registrations: store,
    resources: store,
    consents: store,
    grants: store,
    users: store,
    pending: store,
    approvals: store,
    audit,
    refusals: ctx.refusals,
    issuer,
    lifetimes: { ...config.authorization, maxAccessTokenTtlSeconds: config.tokens.maxAccessTokenTtlSeconds },
  });
  const account = accountFlow({ clients: store, consents: store, grants: store, passkeys: store, identities: store, audit });
  const issuerUrl = new URL(issuer);
  const passkeys = passkeyFlow({
    challenges: store,
    passkeys: store,
    users: store,
    audit,
    throttle: store,
    config,
    refusals: ctx.refusals,
    relyingParty: { id: config.users.webauthnRpId ?? issuerUrl.hostname, origin: issuerUrl.origin },
    registrationMaxAuthAgeSeconds: config.users.passkeyRegistrationMaxAuthAgeSeconds,
  });
  const upstream = upstreamLoginFlow({
    providers: new UpstreamProviders(config.upstreamProviders),
    states: store,
    accounts: store,
    audit,
    refusals: ctx.refusals,
    callbackUrl: (providerId) => endpointUrl(issuer, upstreamCallbackPath(providerId)),
  });
  // One budget per address for password and passkey attempts alike (SR-06's flood ceiling).
  const ceiling = { loginRate: new RateLimiter(config.users.loginAttemptsPerIpPerMinute, () => now() * 1000), audit };
  return [
    ...authorizationEndpoints(issuer, authorization, sessions, now),
    ...(config.users.selfSignup ? signupEndpoints({ issuer, store, config, ...ceiling, now }, sessions) : []),
    ...loginEndpoints({ issuer, upstreamProviders: config.upstreamProviders, passwordLogin: { store, throttle: store, audit, config, refusals: ctx.refusals }, ...ceiling, now }, sessions),
    ...accountEndpoints(issuer, account, sessions, now, passkeys.mayRegister, { store, audit, config }),
    ...passkeyEndpoints(issuer, passkeys, sessions, now, ceiling),
    ...upstreamLoginEndpoints(issuer, upstream, sessions, now),
    ...deviceVerificationEndpoints(issuer, deviceFlow(ctx, store), sessions, config.device, now, ctx.sharedRateCounts),
    ...staticAssetRoutes(),
  ];
}

/** The admin API: the REST face of management/ (the CLI's other face); each group declares its store slice. */
function adminRoutes(ctx: ServerContext, store: Store, exchange: ExchangeCheck): RouteDefinition[] {
  const api: AdminApiDeps<Store> = { store, audit: ctx.audit, config: ctx.config, keys: ctx.keys, now: ctx.now };
  return [
    ...adminAgentRoutes(api),
    ...adminResourceRoutes(api), ...adminApprovalRoutes(api),
    ...adminRevocationWebhookRoutes(api, ctx.webhookSecretKey),
    ...adminApprovalWebhookRoutes(api, ctx.webhookSecretKey),
    ...adminDelegationRoutes(api, exchange),
    ...adminAuditAndKeyRoutes(api),
    ...adminTokenRoutes(api),
    ...adminUserRoutes(api),
    ...adminClientRoutes(api),
  ];
}

/** Every route the server serves, each with its access declaration, assembled with its dependencies. */
export function defineRoutes(ctx: ServerContext, store: Store, sessions: BrowserSessions): RouteDefinition[] {
  const requests = authorizationRequests(ctx, store);
  const oauth = oauthRoutes(ctx, store, requests);
  return [
    ...oauth.routes,
    ...healthEndpoints({ store, keys: ctx.keys, draining: ctx.draining }),
    ...adminRoutes(ctx, store, oauth.exchange),
    // The admin console (issue 12 item 6): pages behind the user login, another face of management/.
    ...consoleRoutes({ issuer: ctx.config.issuer, sessions, store, audit: ctx.audit, config: ctx.config, keys: ctx.keys, now: ctx.now, draining: ctx.draining }),
    ...browserRoutes(ctx, store, sessions, requests),
  ];
}

/** The server's HTTP app over `store`: routes, and the guards each route's access kind brings. */
export async function buildApp(ctx: ServerContext, store: Store, options: HttpAppOptions = {}): Promise<FastifyInstance> {
  const sessions = new BrowserSessions(store, ctx.config, ctx.now);
  const hooks = routeHooksByAccess({ issuer: ctx.config.issuer, refusals: ctx.refusals, adminTokens: store }, sessions);
  return createHttpApp(ctx.config, defineRoutes(ctx, store, sessions), hooks, { metrics: ctx.metrics, draining: ctx.draining, ...options });
}
