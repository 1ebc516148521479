import type { BrowserSessions } from '../http/browser-session.ts';
import { sessionBoundSecret } from '../http/browser-session.ts';
import type { ServerContext } from '../http/context.ts';
import { endpointUrl, userEndpointPaths } from '../http/context.ts';
import { generateSecret, hashSecret } from '../tokens/secret.ts';
import { messagePage } from '../ui/layout.ts';
import { resolveUpstreamAccount } from '../users/upstream-account.ts';
import { UpstreamProviders } from '../users/upstream-oidc.ts';
import { pageForm, safeReturnTo, seeOther, sendPage } from './page-response.ts';
import type { RouteDefinition } from '../http/route.ts';

/**
 * Login through an upstream OpenID provider: POST starts it (CSRF-checked, so no site can start a login in the
 * user's browser), GET on the callback finishes it. `state` is random and stored only as a hash, bound to the
 * browser session that started it and usable once; the PKCE verifier and the nonce are derived from the session's
 * secret and the state, so nothing secret is stored at all.
 */
export function upstreamLoginEndpoints(ctx: ServerContext, sessions: BrowserSessions): RouteDefinition[] {
  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  const providers = new UpstreamProviders(ctx.config.upstreamProviders);
  const callbackPath = (id: string) => `${userEndpointPaths.login}/upstream/${id}/callback`;
  const stateTtlSeconds = 600;
  const providerId = (params: unknown) => (params as Record<string, string>)['id'] ?? '';

  return [
    {
      method: 'POST',
      url: `${userEndpointPaths.login}/upstream/:id`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const provider = providers.get(providerId(request.params));
        if (!provider) return sendPage(reply, 404, messagePage(base, 'Unknown provider', 'This sign-in provider is not configured.'));
        const session = await sessions.ensure(request, reply);
        const state = generateSecret();
        const attempt = { state, nonce: sessionBoundSecret(session, `nonce:${state}`), codeVerifier: sessionBoundSecret(session, `pkce:${state}`) };
        let location: string;
        try {
          location = await providers.authorizationUrl(provider, endpointUrl(ctx.config.issuer, callbackPath(provider.id)), attempt);
        } catch (err) {
          request.log.warn({ provider: provider.id, err: (err as Error).message }, 'upstream discovery failed');
          return sendPage(reply, 502, messagePage(base, 'Provider unavailable', `${provider.name} cannot be reached right now. Try again later or use another method.`));
        }
        await ctx.store.createUpstreamLoginState({
          stateHash: hashSecret(state),
          sessionHash: session.record.idHash,
          providerId: provider.id,
          returnTo: safeReturnTo(pageForm(request).get('return_to'), base),
          expiresAt: ctx.now() + stateTtlSeconds,
        });
        return seeOther(reply, location);
      },
    },
    {
      method: 'GET',
      url: `${userEndpointPaths.login}/upstream/:id/callback`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const provider = providers.get(providerId(request.params));
        if (!provider) return sendPage(reply, 404, messagePage(base, 'Unknown provider', 'This sign-in provider is not configured.'));
        const callbackUrl = new URL(request.url, ctx.config.issuer);
        const state = callbackUrl.searchParams.get('state') ?? '';
        const session = await sessions.current(request);
        const pending = state ? await ctx.store.takeUpstreamLoginState(hashSecret(state), ctx.now()) : null;
        const fail = async (reason: string, returnTo?: string) => {
          await ctx.audit.record({ event: 'login.failed', ip: request.ip, detail: { method: 'upstream', provider: provider.id, reason } });
          const query = new URLSearchParams({ error: 'upstream', ...(returnTo ? { return_to: returnTo } : {}) });
          return reply.code(302).header('location', `${base}${userEndpointPaths.login}?${query}`).send();
        };
        if (!session || !pending || pending.sessionHash !== session.record.idHash || pending.providerId !== provider.id) {
          return fail('unknown, expired or foreign state');
        }
        let identity;
        try {
          const attempt = { state, nonce: sessionBoundSecret(session, `nonce:${state}`), codeVerifier: sessionBoundSecret(session, `pkce:${state}`) };
          identity = await providers.complete(provider, callbackUrl, endpointUrl(ctx.config.issuer, callbackPath(provider.id)), attempt);
        } catch (err) {
          return fail(`upstream response rejected: ${(err as Error).message}`.slice(0, 300), pending.returnTo);
        }
        const account = await resolveUpstreamAccount(provider, identity, { store: ctx.store, now: ctx.now() });
        if (!account.ok) return fail(account.reason, pending.returnTo);
        if (account.how !== 'linked') {
          await ctx.audit.record({ event: account.how === 'provisioned' ? 'user.provisioned' : 'user.identity_linked', actor: account.user.id, subject: account.user.id, ip: request.ip, detail: { provider: provider.id, issuer: identity.issuer } });
        }
        await ctx.audit.record({ event: 'login.succeeded', actor: account.user.id, subject: account.user.id, ip: request.ip, detail: { method: 'upstream', provider: provider.id, amr: ['fed'] } });
        await sessions.login(request, reply, account.user.id, ['fed']);
        return reply.code(302).header('location', pending.returnTo).send();
      },
    },
  ];
}
