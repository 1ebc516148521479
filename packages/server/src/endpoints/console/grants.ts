import { type GrantStore, listActiveGrants, listLiveTokens, revokeGrantAsOperator, revokeTokenAsOperator } from '../../management/grants.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { ClientRecords, UserRecords } from '../../store/store.ts';
import { confirmPage } from '../../ui/console/console-layout.ts';
import { grantsPage } from '../../ui/console/grants-page.ts';
import { backTo, type ConsoleDeps, consoleManagement, type ConsoleRequest, consoleRoute, confirmed, noticeOf, routeParam } from './console-route.ts';

const NOTICES = { grant: 'Grant revoked: its tokens stop working at their next use.', token: 'Token revoked with every token exchanged from it.' };

/** `/admin/grants`: active grants and live tokens (management/grants.ts), each revocable with what derives from it. */
export function consoleGrantRoutes(deps: ConsoleDeps<GrantStore & Pick<ClientRecords, 'listClients'> & Pick<UserRecords, 'listUsers'>>): RouteDefinition[] {
  const section = 'grants' as const;
  async function render(req: ConsoleRequest): Promise<string> {
    const management = consoleManagement(deps, req);
    const names = new Map<string, string>([
      ...(await deps.store.listClients()).map((c) => [c.clientId, c.name] as [string, string]),
      ...(await deps.store.listUsers()).map((u) => [u.id, u.email ?? u.id] as [string, string]),
    ]);
    return grantsPage(req.frame, { grants: await listActiveGrants(management), tokens: await listLiveTokens(management), names });
  }
  return [
    consoleRoute(deps, { method: 'GET', path: '/grants', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/grants/:id/revoke',
      section,
      onRefusal: render,
      async handler(req) {
        const id = routeParam(req, 'id');
        if (!confirmed(req)) {
          return confirmPage(req.frame, {
            title: 'Revoke this grant?',
            message: `Grant ${id} ends now: its refresh tokens and every access token issued on it (and exchanged from them) stop working at their next use. The user has to authorize again.`,
            action: `${req.frame.base}/admin/grants/${id}/revoke`,
            fields: {},
            confirmLabel: 'Revoke grant',
            cancelHref: `${req.frame.base}/admin/grants`,
          });
        }
        await revokeGrantAsOperator(id, consoleManagement(deps, req));
        return backTo(req, '/grants', 'grant');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/tokens/:jti/revoke',
      section,
      onRefusal: render,
      async handler(req) {
        const jti = routeParam(req, 'jti');
        if (!confirmed(req)) {
          return confirmPage(req.frame, {
            title: 'Revoke this token and its chain?',
            message: `Token ${jti} stops working now, and so does every token exchanged from it, however many hops down.`,
            action: `${req.frame.base}/admin/tokens/${jti}/revoke`,
            fields: {},
            confirmLabel: 'Revoke token chain',
            cancelHref: `${req.frame.base}/admin/grants`,
          });
        }
        await revokeTokenAsOperator(jti, consoleManagement(deps, req));
        return backTo(req, '/grants', 'token');
      },
    }),
  ];
}
