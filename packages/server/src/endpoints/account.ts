import type { AccountFlow } from '../flows/account.ts';
import type { BrowserSessions } from '../http/browser-session.ts';
import { csrfToken } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RouteDefinition } from '../http/route.ts';
import { accountPage } from '../ui/account-page.ts';
import { pageForm, seeOther, sendPage } from './page-response.ts';

/** The notices the account page shows after a POST (by a fixed name: no text comes from the URL). */
const NOTICES = new Map([
  ['revoked', 'Access revoked.'],
  ['gone', 'That access had ended already.'],
  ['passkey-removed', 'Passkey removed.'],
  ['passkey-gone', 'That passkey was removed already.'],
]);

/** HTTP face of `flows/account.ts`: the signed-in user's page, and the form that revokes an application's access. */
export function accountEndpoints(
  issuer: string,
  account: AccountFlow,
  sessions: BrowserSessions,
  now: () => number,
  /** Whether a session that signed in at `authTime` may add a passkey now (the passkey flow decides, SR-15). */
  mayAddPasskey: (session: { authTime: number | null }, now: number) => boolean,
): RouteDefinition[] {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
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
        const notice = NOTICES.get((request.query as Record<string, string | undefined>)['notice'] ?? '');
        const overview = await account.overview(session.user.id, now());
        const passkeyReauthUrl = mayAddPasskey(session.record, now()) ? undefined : loginRedirect;
        return sendPage(reply, 200, accountPage({ base, csrf: csrfToken(session), user: session.user, ...overview, passkeyReauthUrl, notice }));
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
        await account.revokeAppAccess({ userId: session.user.id, clientId: form.get('client_id') ?? '', actorId: form.get('actor_id') ?? '', ip: request.ip, now: now() });
        return seeOther(reply, `${base}${userEndpointPaths.account}?notice=revoked`);
      },
    },
    {
      method: 'POST',
      url: `${userEndpointPaths.account}/grants/revoke`,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return reply.code(303).header('location', loginRedirect).send();
        const revoked = await account.revokeGrant({ userId: session.user.id, grantId: pageForm(request).get('grant_id') ?? '', ip: request.ip, now: now() });
        return seeOther(reply, `${base}${userEndpointPaths.account}?notice=${revoked ? 'revoked' : 'gone'}`);
      },
    },
  ];
}
