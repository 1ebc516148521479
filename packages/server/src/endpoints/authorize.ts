import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthorizationFlow, AuthorizeOutcome, SignedInUser } from '../flows/authorize.ts';
import { type BrowserSessions, csrfToken, type SignedInSession } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RouteDefinition } from '../http/route.ts';
import { approvalWaitPage } from '../ui/approval-wait-page.ts';
import { consentPage } from '../ui/consent-page.ts';
import { messagePage } from '../ui/layout.ts';
import { pageForm, rawQuery, sendPage } from './page-response.ts';

const signedInUser = (session: SignedInSession): SignedInUser => ({
  id: session.user.id,
  email: session.user.email,
  authTime: session.record.authTime,
  amr: session.record.amr,
  sessionHash: session.record.idHash,
});

/**
 * HTTP face of the authorization flow (`flows/authorize.ts`): GET (and form POST) /authorize and the consent form.
 * It finds the signed-in user, hands the request to the flow, and turns the flow's outcome into a redirect (302
 * after GET, 303 after POST), the login page, the consent page or an error page.
 */
export function authorizationEndpoints(issuer: string, flow: AuthorizationFlow, sessions: BrowserSessions, now: () => number): RouteDefinition[] {
  const base = new URL(issuer).pathname.replace(/\/$/, '');

  async function respond(request: FastifyRequest, reply: FastifyReply, outcome: AuthorizeOutcome, session: SignedInSession | null) {
    switch (outcome.kind) {
      case 'redirect':
        return reply.code(request.method === 'POST' ? 303 : 302).header('location', outcome.location).send();
      case 'shown':
        return outcome.problem === 'consent_gone'
          ? sendPage(reply, 400, messagePage(base, 'This request is no longer valid', 'It was already answered, it expired, or it was opened in another browser session. Start again from the application.'))
          : sendPage(reply, 400, messagePage(base, 'This request cannot be completed', `The application sent an invalid authorization request: ${outcome.description}.`));
      case 'login': {
        // Never a state change on GET (a cross-site link must not sign anyone out): re-authentication keeps the
        // session until the new login succeeds and replaces it.
        const returnTo = `${base}${userEndpointPaths.authorization}?${outcome.query}`;
        return reply.code(302).header('location', `${base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: returnTo })}`).send();
      }
      case 'consent':
        return sendPage(reply, 200, consentPage({ base, csrf: csrfToken(session!), requestId: outcome.requestId, ...outcome.view }));
      case 'awaiting_approval': {
        const check = `${base}${userEndpointPaths.authorizationApproval}?${new URLSearchParams({ request: outcome.requestId, approval: outcome.approvalId })}`;
        const { requestId: _kept, ...shown } = outcome;
        return sendPage(reply, 200, approvalWaitPage({ base, csrf: csrfToken(session!), userEmail: session!.user.email ?? session!.user.id, checkUrl: check, ...shown }));
      }
    }
  }

  return [
    {
      method: 'GET',
      url: userEndpointPaths.authorization,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        const outcome = await flow.authorize({ query: rawQuery(request), user: session && signedInUser(session), ip: request.ip, now: now() });
        return respond(request, reply, outcome, session);
      },
    },
    {
      // OIDC Core §3.1.2.1: the authorization endpoint takes POST too (form-encoded). It changes nothing, so it
      // carries no CSRF token: it only turns the form into the equivalent GET, where every check happens.
      method: 'POST',
      url: userEndpointPaths.authorization,
      access: 'public',
      errorFormat: 'problem',
      async handler(request, reply) {
        const query = new URLSearchParams(typeof request.body === 'string' ? request.body : '').toString();
        return reply.code(303).header('cache-control', 'no-store').header('location', `${base}${userEndpointPaths.authorization}?${query}`).send();
      },
    },
    {
      // The waiting page's "check again" (flows/authorize.ts `resume`): a GET, like the authorization request it
      // continues; the kept request is bound to this browser session and answered once.
      method: 'GET',
      url: userEndpointPaths.authorizationApproval,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const session = await sessions.signedIn(request);
        if (!session) return sendPage(reply, 403, messagePage(base, 'Signed out', 'Your session ended while the request waited. Start again from the application.'));
        const query = new URLSearchParams(rawQuery(request));
        const outcome = await flow.resume({ requestId: query.get('request') ?? '', approvalId: query.get('approval') ?? '', user: signedInUser(session), ip: request.ip, now: now() });
        return respond(request, reply, outcome, session);
      },
    },
    {
      method: 'POST',
      url: userEndpointPaths.consent,
      access: 'browser',
      errorFormat: 'problem',
      async handler(request, reply) {
        const form = pageForm(request);
        const session = await sessions.signedIn(request);
        if (!session) return sendPage(reply, 403, messagePage(base, 'Signed out', 'Your session ended before you answered. Start again from the application.'));
        const outcome = await flow.consent({
          requestId: form.get('request') ?? '',
          approve: form.get('decision') === 'approve',
          remember: form.get('remember') === '1',
          user: signedInUser(session),
          ip: request.ip,
          now: now(),
        });
        return respond(request, reply, outcome, session);
      },
    },
  ];
}
