import { ManagementError } from '../../management/management-error.ts';
import { createResource, deleteResource, getResource, listResources, rotateResourceKey, updateResource } from '../../management/resources.ts';
import { listScopePolicies, scopePolicyHistory, setScopePolicy } from '../../management/scope-policies.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { ResourceRecords, ScopePolicyRecords } from '../../store/store.ts';
import { confirmPage } from '../../ui/console/console-layout.ts';
import { resourcePage, resourcesPage, type ResourcesPageModel } from '../../ui/console/resources-page.ts';
import { backTo, type ConsoleDeps, consoleManagement, type ConsoleRequest, consoleRoute, confirmed, listField, noticeOf, optionalField, routeParam } from './console-route.ts';

const NOTICES = { policy: 'Policy saved as a new version.', scopes: 'Scopes saved.', deleted: 'Resource deleted.' };

/** `name risk description…` per line → the management input's scope objects. */
function scopesField(form: URLSearchParams): unknown[] {
  return (form.get('scopes') ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, risk, ...description] = line.split(/\s+/);
      if (risk !== undefined && !['low', 'medium', 'high', 'critical'].includes(risk)) {
        throw new ManagementError('invalid-request', `scopes: "${line}": the second word must be a risk (low, medium, high, critical)`);
      }
      return { name, ...(risk ? { risk } : {}), ...(description.length ? { description: description.join(' ') } : {}) };
    });
}

function wholeNumber(form: URLSearchParams, name: string): number | undefined {
  const text = optionalField(form, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new ManagementError('invalid-request', `${name}: must be a whole number`);
  return Number(text);
}

/** The policy form → the same input the admin API takes (`PUT /admin/v1/resources/{id}/policies/{scope}`). */
function policyInput(form: URLSearchParams): unknown {
  const clients = listField(form, 'clients');
  const lifetime = wholeNumber(form, 'max_token_lifetime_seconds');
  const depth = wholeNumber(form, 'max_chain_depth');
  const from = optionalField(form, 'time_from');
  const to = optionalField(form, 'time_to');
  if ((from === undefined) !== (to === undefined)) throw new ManagementError('invalid-request', 'time window: give both the start and the end, or neither');
  const conditions = {
    ...(clients.length ? { clients } : {}),
    ...(lifetime !== undefined ? { max_token_lifetime_seconds: lifetime } : {}),
    ...(depth !== undefined ? { max_chain_depth: depth } : {}),
    ...(from && to ? { time_window: { from, to } } : {}),
  };
  const policy = form.get('policy') ?? '';
  return {
    policy,
    ...(policy === 'role_required' ? { role: optionalField(form, 'role') } : {}),
    ...(policy === 'admin_approval' && optionalField(form, 'approver') ? { approver: optionalField(form, 'approver') } : {}),
    ...(optionalField(form, 'risk') ? { risk: optionalField(form, 'risk') } : {}),
    ...(Object.keys(conditions).length ? { conditions } : {}),
  };
}

/** `/admin/resources`: the console face of management/resources.ts and management/scope-policies.ts. */
export function consoleResourceRoutes(deps: ConsoleDeps<ResourceRecords & ScopePolicyRecords>): RouteDefinition[] {
  const section = 'resources' as const;
  const render = async (req: ConsoleRequest, extra: Partial<ResourcesPageModel> = {}) => resourcesPage(req.frame, { resources: await listResources(deps), ...extra });
  async function renderOne(req: ConsoleRequest, issued?: string): Promise<string> {
    const management = consoleManagement(deps, req);
    const resource = await getResource(routeParam(req, 'id'), management);
    const { policies, defaults } = await listScopePolicies(resource.id, management);
    const history = new Map<string, Awaited<ReturnType<typeof scopePolicyHistory>>['versions']>();
    for (const p of policies) if (p.version > 0) history.set(p.scope, (await scopePolicyHistory(resource.id, p.scope, management)).versions);
    return resourcePage(req.frame, { resource, policies, history, defaults, issued });
  }
  return [
    consoleRoute(deps, { method: 'GET', path: '/resources', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), render(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/resources',
      section,
      onRefusal: (req) => render(req, { values: Object.fromEntries(req.form) }),
      async handler(req) {
        const f = req.form;
        const { resource, apiKey } = await createResource(
          { resource: f.get('resource') ?? '', ...(optionalField(f, 'name') ? { name: optionalField(f, 'name') } : {}), scopes: scopesField(f) },
          consoleManagement(deps, req),
        );
        req.frame.notice = `Resource ${resource.resource} registered.`;
        return render(req, { issued: { resource, apiKey } });
      },
    }),
    consoleRoute(deps, { method: 'GET', path: '/resources/:id', section, handler: async (req) => ((req.frame.notice = noticeOf(req, NOTICES)), renderOne(req)) }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/resources/:id/policies/:scope',
      section,
      onRefusal: (req) => renderOne(req),
      async handler(req) {
        const id = routeParam(req, 'id');
        await setScopePolicy(id, routeParam(req, 'scope'), policyInput(req.form), consoleManagement(deps, req));
        return backTo(req, `/resources/${id}`, 'policy');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/resources/:id/scopes',
      section,
      onRefusal: (req) => renderOne(req),
      async handler(req) {
        const id = routeParam(req, 'id');
        await updateResource(id, { scopes: scopesField(req.form) }, consoleManagement(deps, req));
        return backTo(req, `/resources/${id}`, 'scopes');
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/resources/:id/rotate-key',
      section,
      onRefusal: (req) => renderOne(req),
      async handler(req) {
        const { apiKey } = await rotateResourceKey(routeParam(req, 'id'), consoleManagement(deps, req));
        req.frame.notice = 'API key rotated.';
        return renderOne(req, apiKey);
      },
    }),
    consoleRoute(deps, {
      method: 'POST',
      path: '/resources/:id/delete',
      section,
      onRefusal: (req) => renderOne(req),
      async handler(req) {
        const resource = await getResource(routeParam(req, 'id'), consoleManagement(deps, req));
        if (!confirmed(req)) {
          return confirmPage(req.frame, {
            title: `Delete ${resource.name}?`,
            message: `${resource.resource} is removed with its scopes and policies; tokens for it can no longer be issued or introspected. This cannot be undone.`,
            action: `${req.frame.base}/admin/resources/${resource.id}/delete`,
            fields: {},
            confirmLabel: 'Delete resource',
            cancelHref: `${req.frame.base}/admin/resources/${resource.id}`,
          });
        }
        await deleteResource(resource.id, consoleManagement(deps, req));
        return backTo(req, '/resources', 'deleted');
      },
    }),
  ];
}
