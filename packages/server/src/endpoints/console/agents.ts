import { createAgent, deleteAgent, getAgent, listAgents, rotateAgentSecret, setAgentStatus } from '../../management/agents.ts';
import type { ClientStore } from '../../management/client-lifecycle.ts';
import { ManagementError } from '../../management/management-error.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { ResourceRecords } from '../../store/store.ts';
import { agentsPage, type AgentsPageModel } from '../../ui/console/agents-page.ts';
import { confirmPage } from '../../ui/console/console-layout.ts';
import { backTo, type ConsoleDeps, consoleManagement, type ConsoleRequest, consoleRoute, confirmed, listField, noticeOf, optionalField, routeParam } from './console-route.ts';

const NOTICES = { disabled: 'Agent disabled: every token it holds stops working now.', enabled: 'Agent enabled. Its earlier tokens stay revoked.', deleted: 'Agent deleted.' };

/** The JSON of the JWK Set field, or a precise refusal. */
function jwksField(form: URLSearchParams): unknown {
  const text = optionalField(form, 'jwks');
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ManagementError('invalid-request', 'jwks: must be a JSON object {"keys": [...]}');
  }
}

/** `/admin/agents`: the console face of management/agents.ts. */
export function consoleAgentRoutes(deps: ConsoleDeps<ClientStore & Pick<ResourceRecords, 'listResources'>>): RouteDefinition[] {
  const render = async (req: ConsoleRequest, extra: Partial<AgentsPageModel> = {}) =>
    agentsPage(req.frame, { agents: await listAgents(deps.store), resources: (await deps.store.listResources()).map((r) => r.uri), ...extra });
  const section = 'agents' as const;
  const onRefusal = (req: ConsoleRequest) => render(req, { values: Object.fromEntries(req.form) });
  return [
    consoleRoute(deps, { method: 'GET', path: '/agents', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents',
      section,
      onRefusal,
      async handler(req) {
        const f = req.form;
        const method = f.get('token_endpoint_auth_method') ?? 'client_secret_basic';
        const { agent, clientSecret } = await createAgent(
          {
            name: f.get('name') ?? '',
            ...(optionalField(f, 'owner') ? { owner: optionalField(f, 'owner') } : {}),
            ...(optionalField(f, 'description') ? { description: optionalField(f, 'description') } : {}),
            scopes: listField(f, 'scopes'),
            audiences: listField(f, 'audiences'),
            token_endpoint_auth_method: method,
            ...(method === 'private_key_jwt' || optionalField(f, 'jwks') ? { jwks: jwksField(f) } : {}),
          },
          consoleManagement(deps, req),
        );
        req.frame.notice = `Agent ${agent.name} created.`;
        return render(req, clientSecret ? { issued: { agent, secret: clientSecret, rotated: false } } : {});
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents/:id/rotate-secret',
      section,
      onRefusal: (req) => render(req),
      async handler(req) {
        const { agent, clientSecret } = await rotateAgentSecret(routeParam(req, 'id'), consoleManagement(deps, req));
        req.frame.notice = `Secret of ${agent.name} rotated.`;
        return render(req, { issued: { agent, secret: clientSecret, rotated: true } });
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents/:id/disable',
      section,
      onRefusal: (req) => render(req),
      async handler(req) {
        const id = routeParam(req, 'id');
        const agent = await getAgent(deps.store, id);
        if (!confirmed(req)) {
          return confirmPage(req.frame, {
            title: `Disable ${agent.name}?`,
            message: `Every token ${agent.name} holds, and every token issued through it, stops working at once. Enabling it later does not revive them.`,
            action: `${req.frame.base}/admin/agents/${id}/disable`,
            fields: {},
            confirmLabel: 'Disable agent',
            cancelHref: `${req.frame.base}/admin/agents`,
          });
        }
        await setAgentStatus(id, 'disabled', consoleManagement(deps, req));
        return backTo(req, '/agents', 'disabled');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents/:id/enable',
      section,
      onRefusal: (req) => render(req),
      async handler(req) {
        await setAgentStatus(routeParam(req, 'id'), 'active', consoleManagement(deps, req));
        return backTo(req, '/agents', 'enabled');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents/:id/delete',
      section,
      onRefusal: (req) => render(req),
      async handler(req) {
        const id = routeParam(req, 'id');
        const agent = await getAgent(deps.store, id);
        if (!confirmed(req)) {
          return confirmPage(req.frame, {
            title: `Delete ${agent.name}?`,
            message: `The agent ${agent.name} (${id}) and its credentials are removed for good, and its tokens stop working. This cannot be undone.`,
            action: `${req.frame.base}/admin/agents/${id}/delete`,
            fields: {},
            confirmLabel: 'Delete agent',
            cancelHref: `${req.frame.base}/admin/agents`,
          });
        }
        await deleteAgent(id, consoleManagement(deps, req));
        return backTo(req, '/agents', 'deleted');
      },
    }),
  ];
}
