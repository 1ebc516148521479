import { accountEndpoints } from '../endpoints/account.ts';
import { signupEndpoints } from '../endpoints/signup.ts';
import { authorizationEndpoints } from '../endpoints/authorize.ts';
import { loginEndpoints } from '../endpoints/login.ts';
import { passkeyEndpoints } from '../endpoints/passkeys.ts';
import { staticAssetRoutes } from '../endpoints/static-assets.ts';
import { deviceVerificationEndpoints } from '../endpoints/device-verification.ts';
import { upstreamCallbackPath, upstreamLoginEndpoints } from '../endpoints/upstream-login.ts';
import { accountFlow } from '../flows/account.ts';
import { authorizationFlow } from '../flows/authorize.ts';
import { passkeyFlow } from '../flows/passkeys.ts';
import { upstreamLoginFlow } from '../flows/upstream-login.ts';
import type { BrowserSessions } from '../http/browser-session.ts';
import { endpointUrl } from '../http/endpoint-paths.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { Store } from '../store/store.ts';
import { UpstreamProviders } from '../users/upstream-oidc.ts';

import { type AuthorizationRequests, deviceFlow } from './oauth-routes.ts';
import type { ServerContext } from './server-context.ts';

/** The pages a person sees: authorization and consent, login (password, passkey, upstream), account. */
export function browserRoutes(ctx: ServerContext, store: Store, sessions: BrowserSessions, requests: AuthorizationRequests): RouteDefinition[] {
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
