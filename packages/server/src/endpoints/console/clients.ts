import type { ClientStore } from '../../management/client-lifecycle.ts';
import { createClient, deleteClient, getClient, listClients, rotateClientSecret, setClientStatus, updateClient } from '../../management/clients.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { clientPage, clientsPage, type ClientsPageModel } from '../../ui/console/clients-page.ts';
import { backTo, type ConsoleDeps, consoleAction, consoleManagement, type ConsoleRequest, consoleRoute, listField, noticeOf, optionalField, routeParam } from './console-route.ts';

const NOTICES = { updated: 'Client saved.', disabled: 'Client disabled: its tokens and grants ended.', enabled: 'Client enabled. Its earlier tokens stay revoked.', deleted: 'Client deleted.' };

/** Redirect URIs one per line (a URI has no spaces), so the field can be pasted from a config. */
const lines = (form: URLSearchParams, name: string) => (form.get(name) ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);

/**
 * `/admin/clients`: the console face of management/clients.ts. Redirect URIs and everything else are checked by
 * the same management functions (and so the same redirect-URI policy) as the admin API and the CLI. A confidential
 * client's secret rotates here (shown once; the old one keeps its grace period).
 */
export function consoleClientRoutes(deps: ConsoleDeps<ClientStore>): RouteDefinition[] {
  const render = async (req: ConsoleRequest, extra: Partial<ClientsPageModel> = {}) => clientsPage(req.frame, { clients: await listClients(deps), ...extra });
  const renderOne = async (req: ConsoleRequest, values?: Record<string, string>) => clientPage(req.frame, await getClient(routeParam(req, 'id'), consoleManagement(deps, req)), values);
  const section = 'clients' as const;
  const target = async (req: ConsoleRequest) => {
    const client = await getClient(routeParam(req, 'id'), consoleManagement(deps, req));
    return { id: client.client_id, name: client.name };
  };
  const onRefusal = (req: ConsoleRequest) => renderOne(req);
  const detail = ({ id }: { id: string }) => `/clients/${encodeURIComponent(id)}`;
  return [
    consoleRoute(deps, { method: 'GET', path: '/clients', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/clients',
      section,
      onRefusal: (req) => render(req, { values: Object.fromEntries(req.form) }),
      async handler(req) {
        const f = req.form;
        const { client, clientSecret } = await createClient(
          {
            name: f.get('name') ?? '',
            redirect_uris: lines(f, 'redirect_uris'),
            public: f.get('client_type') === 'public',
            scopes: listField(f, 'scopes'),
            audiences: listField(f, 'audiences'),
            ...(optionalField(f, 'owner') ? { owner: optionalField(f, 'owner') } : {}),
          },
          consoleManagement(deps, req),
        );
        req.frame.notice = `Client ${client.name} registered.`;
        return render(req, clientSecret ? { issued: { client, secret: clientSecret } } : {});
      },
    }),
    consoleRoute(deps, { method: 'GET', path: '/clients/:id', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), renderOne(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/clients/:id',
      section,
      onRefusal: (req) => renderOne(req, Object.fromEntries(req.form)),
      async handler(req) {
        const f = req.form;
        const id = routeParam(req, 'id');
        await updateClient(
          id,
          {
            name: f.get('name') ?? '',
            description: optionalField(f, 'description') ?? null,
            redirect_uris: lines(f, 'redirect_uris'),
            scopes: listField(f, 'scopes'),
            default_scopes: listField(f, 'default_scopes'),
            audiences: listField(f, 'audiences'),
          },
          consoleManagement(deps, req),
        );
        return backTo(req, `/clients/${encodeURIComponent(id)}`, 'updated');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/clients/:id/rotate-secret',
      section,
      onRefusal,
      async handler(req) {
        const { client, clientSecret } = await rotateClientSecret(routeParam(req, 'id'), consoleManagement(deps, req));
        req.frame.notice = `Secret of ${client.name} rotated.`;
        return clientPage(req.frame, client, undefined, clientSecret);
      },
    }),
    consoleAction(deps, {
      path: '/clients/:id/disable',
      section,
      onRefusal,
      target,
      confirm: ({ name }) => ({
        title: `Disable ${name}?`,
        message: `Every grant and token of ${name} ends now; users will have to authorize it again after it is enabled.`,
        confirmLabel: 'Disable client',
      }),
      run: ({ id }, req) => setClientStatus(id, 'disabled', consoleManagement(deps, req)),
      back: detail,
      notice: 'disabled',
    }),
    consoleAction(deps, {
      path: '/clients/:id/enable',
      section,
      onRefusal,
      target,
      run: ({ id }, req) => setClientStatus(id, 'active', consoleManagement(deps, req)),
      back: detail,
      notice: 'enabled',
    }),
    consoleAction(deps, {
      path: '/clients/:id/delete',
      section,
      onRefusal,
      target,
      confirm: ({ name }) => ({
        title: `Delete ${name}?`,
        message: `The client ${name} is removed for good and its tokens stop working. This cannot be undone.`,
        confirmLabel: 'Delete client',
      }),
      run: ({ id }, req) => deleteClient(id, consoleManagement(deps, req)),
      back: () => '/clients',
      cancel: detail,
      notice: 'deleted',
    }),
  ];
}
