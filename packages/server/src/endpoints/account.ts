import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountFlow } from '../flows/account.ts';
import type { BrowserSessions, SignedInSession } from '../http/browser-session.ts';
import { csrfToken } from '../http/browser-session.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import { ManagementError } from '../management/management-error.ts';
import { decideOwnApproval, listApprovalsAbout, type OwnApprovalStore } from '../management/own-approvals.ts';
import type { ClientRecords } from '../store/store.ts';
import { accountPage } from '../ui/account-page.ts';
import { pageForm, seeOther, sendPage } from './page-response.ts';

/** The notices the account page shows after a POST (by a fixed name: no text comes from the URL). */
const NOTICES = new Map([
  ['revoked', 'Access revoked.'],
  ['gone', 'That access had ended already.'],
  ['passkey-removed', 'Passkey removed.'],
  ['passkey-gone', 'That passkey was removed already.'],
  ['agent-revoked', 'Agent revoked: everything it could do for you has ended, and its next call fails.'],
  ['approved', 'Request approved.'],
  ['denied', 'Request denied.'],
]);

/** What the self-service approvals call (management/own-approvals.ts), with the audit log and configuration. */
export interface OwnApprovalDeps {
  store: OwnApprovalStore & Pick<ClientRecords, 'listClients'>;
  audit: Pick<AuditLog, 'record'>;
  config: MandateConfig;
}

/** HTTP face of `flows/account.ts`: the signed-in user's page, and the form that revokes an application's access. */
export function accountEndpoints(
  issuer: string,
  account: AccountFlow,
  sessions: BrowserSessions,
  now: () => number,
  /** Whether a session that signed in at `authTime` may add a passkey now (the passkey flow decides, SR-15). */
  mayAddPasskey: (session: { authTime: number | null }, now: number) => boolean,
  approvals: OwnApprovalDeps,
): RouteDefinition[] {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  const loginRedirect = `${base}${userEndpointPaths.login}?${new URLSearchParams({ return_to: `${base}${userEndpointPaths.account}` })}`;
  const managementOf = (userId: string) => ({ store: approvals.store, audit: approvals.audit, config: approvals.config, now: now(), actor: userId });

  async function render(session: SignedInSession, messages: { notice?: string | undefined; error?: string | undefined }): Promise<string> {
    const overview = await account.overview(session.user.id, now());
    const requests = await listApprovalsAbout(session.user.id, managementOf(session.user.id));
    const clientNames = new Map((await approvals.store.listClients()).map((c) => [c.clientId, c.name]));
    const passkeyReauthUrl = mayAddPasskey(session.record, now()) ? undefined : loginRedirect;
    return accountPage({ base, csrf: csrfToken(session), user: session.user, ...overview, requests, clientNames, passkeyReauthUrl, ...messages });
  }

  /** A route of the signed-in user's page: someone not signed in is sent to the login page and back here. */
  const accountRoute = (method: 'GET' | 'POST', path: string, handler: (session: SignedInSession, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): RouteDefinition => ({
    method,
    url: `${userEndpointPaths.account}${path}`,
    access: 'browser',
    errorFormat: 'problem',
    async handler(request, reply) {
      const session = await sessions.signedIn(request);
      if (!session) return reply.code(method === 'GET' ? 302 : 303).header('location', loginRedirect).send();
      return handler(session, request, reply);
    },
  });
  const back = (reply: FastifyReply, notice: string) => seeOther(reply, `${base}${userEndpointPaths.account}?notice=${notice}`);

  return [
    accountRoute('GET', '', async (session, request, reply) => {
      const notice = NOTICES.get((request.query as Record<string, string | undefined>)['notice'] ?? '');
      return sendPage(reply, 200, await render(session, { notice }));
    }),
    accountRoute('POST', '/agents/revoke', async (session, request, reply) => {
      const revoked = await account.revokeAgent({ userId: session.user.id, agentId: pageForm(request).get('agent_id') ?? '', ip: request.ip, now: now() });
      return back(reply, revoked ? 'agent-revoked' : 'gone');
    }),
    accountRoute('POST', '/approvals/:id/decision', async (session, request, reply) => {
      const form = pageForm(request);
      // Only the decision and the reason: the decider is the session's user.
      const input = { decision: form.get('decision') ?? '', ...(form.get('reason') ? { reason: form.get('reason') } : {}) };
      try {
        const decided = await decideOwnApproval((request.params as Record<string, string>)['id'] ?? '', input, { ...managementOf(session.user.id), userId: session.user.id, sessionAuthTime: session.record.authTime });
        return back(reply, decided.status === 'approved' ? 'approved' : 'denied');
      } catch (err) {
        if (!(err instanceof ManagementError)) throw err;
        const status = { 'invalid-request': 400, forbidden: 403, 'not-found': 404, conflict: 409 }[err.kind];
        return sendPage(reply, status, await render(session, { error: err.message }));
      }
    }),
    accountRoute('POST', '/consents/revoke', async (session, request, reply) => {
      const form = pageForm(request);
      await account.revokeAppAccess({ userId: session.user.id, clientId: form.get('client_id') ?? '', actorId: form.get('actor_id') ?? '', ip: request.ip, now: now() });
      return back(reply, 'revoked');
    }),
    accountRoute('POST', '/grants/revoke', async (session, request, reply) => {
      const revoked = await account.revokeGrant({ userId: session.user.id, grantId: pageForm(request).get('grant_id') ?? '', ip: request.ip, now: now() });
      return back(reply, revoked ? 'revoked' : 'gone');
    }),
  ];
}
