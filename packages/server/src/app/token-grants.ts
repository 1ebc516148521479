import type { ExchangeCheck } from '../endpoints/admin/delegation.ts';
import { systemResolver } from '../flows/metadata-document-fetch.ts';
import { trustedIssuerKeys } from '../flows/trusted-issuer-keys.ts';
import { withCrossDomainExchange } from '../grants/cross-domain-exchange.ts';
import { jwtBearerGrant, jwtDpopGrant } from '../grants/jwt-bearer.ts';
import { authorizationCodeGrant } from '../grants/authorization-code.ts';
import { cibaGrant } from '../grants/ciba.ts';
import { deviceCodeGrant } from '../grants/device-code.ts';
import { clientCredentialsGrant } from '../grants/client-credentials.ts';
import type { Grant } from '../grants/grant.ts';
import { refreshTokenGrant } from '../grants/refresh-token.ts';
import { type DownstreamExchange, downstreamExchange } from '../grants/downstream-exchange.ts';
import { tokenExchangeGrant } from '../grants/token-exchange.ts';
import type { UserTokenDeps } from '../grants/user-tokens.ts';
import type { ClientAuthDeps } from '../oauth/client-authentication.ts';
import type { TokenLifecycleDeps } from '../lifecycle/token-lifecycle.ts';
import type { Store } from '../store/store.ts';

import type { ServerContext } from './server-context.ts';

/** The grants of the token endpoint, by `grant_type`, with their dependencies. */
export function assembleGrants(
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
