import type { BrowserSessions } from '../http/browser-session.ts';
import { csrfToken } from '../http/browser-session.ts';
import type { ServerContext } from '../http/context.ts';
import { userEndpointPaths } from '../http/context.ts';
import { accountPage, type AuthorizedApp } from '../ui/account-page.ts';
import { pageForm, seeOther, sendPage } from './page-response.ts';
import type { RouteDefinition } from '../http/route.ts';

/**
 * The signed-in user's page: remembered consents (one row per client and agent) with revoke, passkeys, linked
 * providers. Revoking removes the remembered consent for every resource of that client and agent, and
 * revokes every grant the user gave them, so their refresh tokens and access tokens (via `gid`)
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
        const byPair = new Map<string, AuthorizedApp>();
        for (const consent of await ctx.store.listConsents(user.id)) {
          const key = `${consent.clientId}\u0000${consent.actorId}`;
          let entry = byPair.get(key);
          if (!entry) {
            entry = { clientId: consent.clientId, clientName: await nameOf(consent.clientId), actorId: consent.actorId, actorName: consent.actorId ? await nameOf(consent.actorId) : null, access: [], since: consent.createdAt };
            byPair.set(key, entry);
          }
          entry.access.push({ resource: consent.resource, scopes: consent.scopes });
          entry.since = Math.min(entry.since, consent.createdAt);
        }
        const consents = [...byPair.values()];
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
        const now = ctx.now();
        let deleted = 0;
        for (const consent of await ctx.store.listConsents(session.user.id)) {
          if (consent.clientId === clientId && consent.actorId === actorId && (await ctx.store.deleteConsent(session.user.id, clientId, actorId, consent.resource))) deleted++;
        }
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
          detail: { actor_id: actorId || undefined, consents_deleted: deleted, grants_revoked: revoked },
        });
        return seeOther(reply, `${base}${userEndpointPaths.account}?notice=revoked`);
      },
    },
  ];
}
