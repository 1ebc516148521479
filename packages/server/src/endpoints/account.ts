import type { BrowserSessions } from '../http/browser-session.ts';
import { csrfToken } from '../http/browser-session.ts';
import type { ServerContext } from '../http/context.ts';
import { userEndpointPaths } from '../http/context.ts';
import { accountPage } from '../ui/account-page.ts';
import { pageForm, seeOther, sendPage } from './page-response.ts';
import type { RouteDefinition } from './route.ts';

/**
 * The signed-in user's page: remembered consents with revoke, passkeys, linked providers. Revoking a consent also
 * revokes every grant the user gave that client and agent, so their refresh tokens and access tokens (via `gid`)
 * stop working at once; the next authorization asks again.
 */
export function accountEndpoints(ctx: ServerContext, sessions: BrowserSessions): RouteDefinition[] {
  const base = new URL(ctx.config.issuer).pathname.replace(/\/$/, '');
  const loginRedirect = `${base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: `${base}${userEndpointPaths.account}` })}`;

  return [
    {
      method: 'GET',
      url: userEndpointPaths.account,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return reply.code(302).header('location', loginRedirect).send();
        const { user } = session;
        const names = new Map<string, string>();
        const nameOf = async (id: string) => {
          if (!names.has(id)) names.set(id, (await ctx.store.getClient(id))?.name ?? id);
          return names.get(id)!;
        };
        const consents = [];
        for (const consent of await ctx.store.listConsents(user.id)) {
          consents.push({ ...consent, clientName: await nameOf(consent.clientId), actorName: consent.actorId ? await nameOf(consent.actorId) : null });
        }
        const notice = (request.query as Record<string, string | undefined>)['notice'] === 'revoked' ? 'Access revoked.' : undefined;
        return sendPage(
          reply,
          200,
          accountPage({
            base,
            csrf: csrfToken(session),
            user,
            consents,
            passkeys: await ctx.store.listPasskeys(user.id),
            identities: await ctx.store.listIdentities(user.id),
            notice,
          }),
        );
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.account}/consents/revoke`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return reply.code(303).header('location', loginRedirect).send();
        const form = pageForm(request);
        const clientId = form.get('client_id') ?? '';
        const actorId = form.get('actor_id') ?? '';
        const resource = form.get('resource') ?? '';
        const now = ctx.now();
        const deleted = await ctx.store.deleteConsent(session.user.id, clientId, actorId, resource);
        const revoked: string[] = [];
        for (const grant of await ctx.store.listUserGrants(session.user.id)) {
          if (grant.clientId === clientId && (grant.actorId ?? '') === actorId && (await ctx.store.revokeGrant(grant.id, now))) revoked.push(grant.id);
        }
        await ctx.audit.record({
          event: 'consent.revoked',
          actor: session.user.id,
          subject: session.user.id,
          clientId,
          ip: request.ip,
          detail: { actor_id: actorId || undefined, resource: resource || undefined, consent_found: deleted, grants_revoked: revoked },
        });
        return seeOther(reply, `${base}${userEndpointPaths.account}?notice=revoked`);
      },
    },
  ];
}
