import type { ExchangeCheck } from '../endpoints/admin/delegation.ts';
import { introspectionEndpoint } from '../endpoints/introspect.ts';
import { revocationEventsEndpoint } from '../endpoints/revocation-events.ts';
import { actionUsesEndpoint } from '../endpoints/action-uses.ts';
import { toolCallsEndpoint } from '../endpoints/tool-calls.ts';
import { actionUseFlow } from '../flows/action-use.ts';
import { toolCallAuditFlow } from '../flows/tool-call-audit.ts';
import { jwksEndpoint, metadataEndpoints } from '../endpoints/metadata.ts';
import { registrationEndpoints } from '../endpoints/register.ts';
import { revocationEndpoint } from '../endpoints/revoke.ts';
import { backchannelAuthenticationEndpoint } from '../endpoints/backchannel-authentication.ts';
import { approvalEventsEndpoint } from '../endpoints/approval-events.ts';
import { approvalStatusFlow } from '../flows/approval-status.ts';
import { deviceAuthorizationEndpoint } from '../endpoints/device-authorization.ts';
import { tokenEndpoint } from '../endpoints/token.ts';
import { userinfoEndpoints } from '../endpoints/userinfo.ts';
import { backchannelAuthenticationFlow } from '../flows/backchannel-authentication.ts';
import { deviceAuthorizationFlow } from '../flows/device-authorization.ts';
import { authorizationClients } from '../flows/authorization-clients.ts';
import { type PushedAuthorizationFlow, pushedAuthorizationFlow } from '../flows/pushed-authorization.ts';
import { pushedAuthorizationEndpoint } from '../endpoints/pushed-authorization.ts';
import { metadataDocumentFlow } from '../flows/client-metadata-document.ts';
import { clientRegistrationFlow } from '../flows/client-registration.ts';
import { systemResolver } from '../flows/metadata-document-fetch.ts';
import { introspectionFlow } from '../flows/introspection.ts';
import { revocationEventsFlow } from '../flows/revocation-events.ts';
import { revocationFlow } from '../flows/revocation.ts';
import { userinfoFlow } from '../flows/userinfo.ts';
import { transactionTokenService } from '../grants/transaction-token.ts';
import { endpointPaths, endpointUrl, userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { ClientAuthDeps } from '../oauth/client-authentication.ts';
import { dpopDeps } from '../oauth/dpop.ts';
import type { TokenLifecycleDeps } from '../lifecycle/token-lifecycle.ts';
import type { Store } from '../store/store.ts';

import { type ServerContext, trustDomainOf } from './server-context.ts';
import { assembleGrants } from './token-grants.ts';

/** How the authorization endpoints find clients (metadata documents, expiring registrations), and RFC 9126 requests over them. */
export interface AuthorizationRequests {
  clients: ReturnType<typeof authorizationClients>;
  pushed: PushedAuthorizationFlow;
  parRequired: boolean;
}

export function authorizationRequests(ctx: ServerContext, store: Store): AuthorizationRequests {
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
export function oauthRoutes(ctx: ServerContext, store: Store, requests: AuthorizationRequests): { routes: RouteDefinition[]; exchange: ExchangeCheck } {
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
export function deviceFlow(ctx: ServerContext, store: Store) {
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
