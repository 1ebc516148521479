import { UPSTREAM_AMR, type UpstreamLoginFlow } from '../flows/upstream-login.ts';
import type { ActiveSession, BrowserSessions } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RouteDefinition } from '../http/route.ts';
import { messagePage } from '../ui/layout.ts';
import { pageForm, safeReturnTo, seeOther, sendPage } from './page-response.ts';

/** Our callback path for a provider, below the issuer. */
export const upstreamCallbackPath = (providerId: string) => `${userEndpointPaths.login}/upstream/${providerId}/callback`;

const sessionKeys = (session: ActiveSession) => ({ idHash: session.record.idHash, secret: session.raw });

/**
 * HTTP face of `flows/upstream-login.ts`: POST starts a login (CSRF-checked, so no site can start a login in the
 * user's browser), GET on the callback finishes it, signs the browser in and goes back where the user started.
 */
export function upstreamLoginEndpoints(issuer: string, upstream: UpstreamLoginFlow, sessions: BrowserSessions, now: () => number): RouteDefinition[] {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  const providerId = (params: unknown) => (params as Record<string, string>)['id'] ?? '';
  const unknownProvider = () => messagePage(base, 'Unknown provider', 'This sign-in provider is not configured.');

  return [
    {
      method: 'POST',
      url: `${userEndpointPaths.login}/upstream/:id`,
      access: 'browser',
      anonymousForm: true,
      errorFormat: 'problem',
      async handler(request, reply) {
        const provider = upstream.provider(providerId(request.params));
        if (!provider) return sendPage(reply, 404, unknownProvider());
        const session = await sessions.ensure(request, reply);
        if (!('record' in session)) {
          reply.header('retry-after', String(session.retryAfter));
          return sendPage(reply, 429, messagePage(base, 'Too many sign-ins', `Too many sign-ins were started from your network. Try again in ${session.retryAfter} seconds.`));
        }
        const started = await upstream.start({ provider, session: sessionKeys(session), returnTo: safeReturnTo(pageForm(request).get('return_to'), base), now: now() });
        if (!started.ok) {
          request.log.warn({ provider: provider.id, err: started.detail }, 'upstream discovery failed');
          return sendPage(reply, 502, messagePage(base, 'Provider unavailable', `${provider.name} cannot be reached right now. Try again later or use another method.`));
        }
        return seeOther(reply, started.location);
      },
    },
    {
      method: 'GET',
      url: upstreamCallbackPath(':id'),
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const provider = upstream.provider(providerId(request.params));
        if (!provider) return sendPage(reply, 404, unknownProvider());
        const session = await sessions.current(request);
        const result = await upstream.finish({ provider, callbackUrl: new URL(request.url, issuer), session: session && sessionKeys(session), ip: request.ip, now: now() });
        if (!result.ok) {
          const query = new URLSearchParams({ error: 'upstream', ...(result.returnTo ? { return_to: result.returnTo } : {}) });
          return reply.code(302).header('location', `${base}${userEndpointPaths.login}?${query}`).send();
        }
        await sessions.login(request, reply, result.userId, UPSTREAM_AMR);
        return reply.code(302).header('location', result.returnTo).send();
      },
    },
  ];
}
