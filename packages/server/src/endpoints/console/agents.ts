import { createAgent, deleteAgent, getAgent, listAgents, rotateAgentSecret, setAgentStatus, updateAgent } from '../../management/agents.ts';
import type { ClientStore } from '../../management/client-lifecycle.ts';
import { ManagementError } from '../../management/management-error.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { ResourceRecords } from '../../store/store.ts';
import { agentPage, agentsPage, type AgentsPageModel } from '../../ui/console/agents-page.ts';
import { backTo, type ConsoleDeps, consoleAction, consoleManagement, type ConsoleRequest, consoleRoute, listField, noticeOf, optionalField, routeParam } from './console-route.ts';

const NOTICES = {
  updated: 'Agent saved.',
  disabled: 'Agent disabled: every token it holds stops working now.',
  enabled: 'Agent enabled. Its earlier tokens stay revoked.',
  deleted: 'Agent deleted.',
};

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

/** The edit form as `updateAgent` takes it (the admin API's PATCH body): every field set, blanks as null. */
function editInput(f: URLSearchParams, authMethod: string): Record<string, unknown> {
  const ttl = optionalField(f, 'access_token_ttl_seconds');
  return {
    name: f.get('name') ?? '',
    description: optionalField(f, 'description') ?? null,
    owner: optionalField(f, 'owner') ?? null,
    scopes: listField(f, 'scopes'),
    audiences: listField(f, 'audiences'),
    access_token_ttl_seconds: ttl === undefined ? null : Number(ttl),
    dpop_bound_access_tokens: f.get('dpop_bound_access_tokens') === 'yes',
    txn_tokens: f.get('txn_tokens') === 'yes',
    backchannel_token_delivery_mode: f.get('backchannel_token_delivery_mode') ?? 'poll',
    backchannel_client_notification_endpoint: optionalField(f, 'backchannel_client_notification_endpoint') ?? null,
    ...(authMethod === 'private_key_jwt' && optionalField(f, 'jwks') ? { jwks: jwksField(f) } : {}),
  };
}

/** `/admin/agents`: the console face of management/agents.ts. */
export function consoleAgentRoutes(deps: ConsoleDeps<ClientStore & Pick<ResourceRecords, 'listResources'>>): RouteDefinition[] {
  const resources = async () => (await deps.store.listResources()).map((r) => r.uri);
  const render = async (req: ConsoleRequest, extra: Partial<AgentsPageModel> = {}) => agentsPage(req.frame, { agents: await listAgents(deps.store), resources: await resources(), ...extra });
  const renderOne = async (req: ConsoleRequest, extra: { values?: Record<string, string>; issued?: AgentsPageModel['issued'] } = {}) =>
    agentPage(req.frame, { agent: await getAgent(deps.store, routeParam(req, 'id')), resources: await resources(), ...extra });
  const section = 'agents' as const;
  const target = async (req: ConsoleRequest) => {
    const agent = await getAgent(deps.store, routeParam(req, 'id'));
    return { id: agent.client_id, name: agent.name };
  };
  const onRefusal = (req: ConsoleRequest) => render(req);
  return [
    consoleRoute(deps, { method: 'GET', path: '/agents', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents',
      section,
      onRefusal: (req) => render(req, { values: Object.fromEntries(req.form) }),
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
    consoleRoute(deps, { method: 'GET', path: '/agents/:id', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), renderOne(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents/:id',
      section,
      onRefusal: (req) => renderOne(req, { values: Object.fromEntries(req.form) }),
      async handler(req) {
        const current = await getAgent(deps.store, routeParam(req, 'id'));
        await updateAgent(current.client_id, editInput(req.form, current.token_endpoint_auth_method), consoleManagement(deps, req));
        return backTo(req, `/agents/${encodeURIComponent(current.client_id)}`, 'updated');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/agents/:id/rotate-secret',
      section,
      onRefusal: (req) => renderOne(req),
      async handler(req) {
        const { agent, clientSecret } = await rotateAgentSecret(routeParam(req, 'id'), consoleManagement(deps, req));
        req.frame.notice = `Secret of ${agent.name} rotated.`;
        return renderOne(req, { issued: { agent, secret: clientSecret, rotated: true } });
      },
    }),
    consoleAction(deps, {
      path: '/agents/:id/disable',
      section,
      onRefusal,
      target,
      confirm: ({ name }) => ({
        title: `Disable ${name}?`,
        message: `Every token ${name} holds, and every token issued through it, stops working at once. Enabling it later does not revive them.`,
        confirmLabel: 'Disable agent',
      }),
      run: ({ id }, req) => setAgentStatus(id, 'disabled', consoleManagement(deps, req)),
      back: () => '/agents',
      notice: 'disabled',
    }),
    consoleAction(deps, {
      path: '/agents/:id/enable',
      section,
      onRefusal,
      target,
      run: ({ id }, req) => setAgentStatus(id, 'active', consoleManagement(deps, req)),
      back: () => '/agents',
      notice: 'enabled',
    }),
    consoleAction(deps, {
      path: '/agents/:id/delete',
      section,
      onRefusal,
      target,
      confirm: ({ id, name }) => ({
        title: `Delete ${name}?`,
        message: `The agent ${name} (${id}) and its credentials are removed for good, and its tokens stop working. This cannot be undone.`,
        confirmLabel: 'Delete agent',
      }),
      run: ({ id }, req) => deleteAgent(id, consoleManagement(deps, req)),
      back: () => '/agents',
      notice: 'deleted',
    }),
  ];
}
