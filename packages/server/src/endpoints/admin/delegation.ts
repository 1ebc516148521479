import { z } from 'zod';
import type { ExchangeDryRun, TokenExchangeRequest } from '../../grants/token-exchange.ts';
import type { RouteDefinition } from '../../http/route.ts';
import {
  type DelegationPolicyStore,
  getAgentDelegationPolicy,
  getResourceDelegationPolicy,
  setAgentDelegationPolicy,
  setResourceDelegationPolicy,
} from '../../management/delegation-policies.ts';
import { parseInput } from '../../management/input.ts';
import { ManagementError } from '../../management/management-error.ts';
import { FormParams } from '../../oauth/form-params.ts';
import { OAuthError } from '../../oauth/oauth-error.ts';
import type { ClientRecord, ResourceRecord } from '../../store/store.ts';
import { type AdminApiDeps, adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/** The token exchange's dry runs, as app.ts hands them over: an agent's exchange and a resource server's (downstream). */
export interface ExchangeCheck {
  parse(params: FormParams): TokenExchangeRequest;
  check(input: { actor: ClientRecord; request: TokenExchangeRequest; now: number }): Promise<ExchangeDryRun>;
  checkDownstream(input: { resource: ResourceRecord; request: TokenExchangeRequest; now: number }): Promise<ExchangeDryRun>;
}

const list = z.union([z.string(), z.array(z.string())]).optional();
const dryRunBody = z
  .object({
    actor: z.string().min(1).optional(),
    /** A registered resource (URI or id) exchanging a token it received for a downstream call (issue 11 item 2). */
    resource_server: z.string().min(1).optional(),
    subject_token: z.string().min(1),
    subject_token_type: z.string().optional(),
    resource: list,
    audience: list,
    scope: z.string().optional(),
  })
  .strict()
  .refine((body) => (body.actor === undefined) !== (body.resource_server === undefined), { message: 'name exactly one of actor and resource_server', path: ['actor'] });

/**
 * `/admin/v1/resources/:id/delegation-policy`, `/admin/v1/agents/:id/delegation-policy` (GET, PUT with the policy,
 * DELETE) and `POST /admin/v1/delegation/check`: would this agent (`actor`) or this resource server
 * (`resource_server`, a downstream exchange) be allowed to exchange this token (for these targets), and what would
 * it get, or why not? The dry run runs every check of the real exchange but the actor's proof (the admin names the
 * actor: no actor token, no API key, no DPoP proof) and mints nothing; a refusal has the real exchange's error.
 */
export function adminDelegationRoutes(api: AdminApiDeps<DelegationPolicyStore>, exchange: ExchangeCheck): RouteDefinition[] {
  type ReadPolicy = (id: string, deps: ReturnType<typeof managementDeps<DelegationPolicyStore>>) => Promise<unknown>;
  type WritePolicy = (id: string, input: unknown, deps: ReturnType<typeof managementDeps<DelegationPolicyStore>>) => Promise<unknown>;
  /** GET, PUT (replace) and DELETE of one owner kind's policy. */
  const policyRoutes = (owners: string, get: ReadPolicy, set: WritePolicy): RouteDefinition[] => [
    adminRoute('GET', `/${owners}/:id/delegation-policy`, async (request, reply) => sendJson(reply, 200, await get(idParam(request), managementDeps(api, request)))),
    adminRoute('PUT', `/${owners}/:id/delegation-policy`, async (request, reply) => sendJson(reply, 200, await set(idParam(request), request.body ?? {}, managementDeps(api, request)))),
    adminRoute('DELETE', `/${owners}/:id/delegation-policy`, async (request, reply) => {
      await set(idParam(request), null, managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
  return [
    ...policyRoutes('resources', getResourceDelegationPolicy, setResourceDelegationPolicy),
    ...policyRoutes('agents', getAgentDelegationPolicy, setAgentDelegationPolicy),
    adminRoute('POST', '/delegation/check', async (request, reply) => {
      const body = parseInput(dryRunBody, request.body ?? {});
      const form = new URLSearchParams({ subject_token: body.subject_token, subject_token_type: body.subject_token_type ?? 'urn:ietf:params:oauth:token-type:access_token' });
      for (const value of [body.resource ?? []].flat()) form.append('resource', value);
      for (const value of [body.audience ?? []].flat()) form.append('audience', value);
      if (body.scope !== undefined) form.set('scope', body.scope);
      let parsed: TokenExchangeRequest;
      try {
        parsed = exchange.parse(new FormParams(form.toString()));
      } catch (err) {
        if (err instanceof OAuthError) return sendJson(reply, 200, { allowed: false, error: err.error, error_description: err.message });
        throw err;
      }
      if (body.resource_server !== undefined) {
        const resource = (await api.store.getResourceByUri(body.resource_server)) ?? (await api.store.listResources()).find((r) => r.id === body.resource_server);
        if (!resource) throw new ManagementError('invalid-request', `resource_server: no resource ${body.resource_server}`, [{ path: 'resource_server', message: 'unknown resource' }]);
        return sendJson(reply, 200, await exchange.checkDownstream({ resource, request: parsed, now: api.now() }));
      }
      const actor = await api.store.getClient(body.actor!);
      if (!actor || actor.status !== 'active') throw new ManagementError('invalid-request', `actor: no active client ${body.actor}`, [{ path: 'actor', message: 'unknown or disabled client' }]);
      return sendJson(reply, 200, await exchange.check({ actor, request: parsed, now: api.now() }));
    }),
  ];
}
