import { z } from 'zod';
import type { ClientRecords, DelegationPolicyDocument, DelegationPolicyRecords, ResourceRecords } from '../store/store.ts';
import { existingClientOfKind } from './client-lifecycle.ts';
import { parseInput } from './input.ts';
import { ManagementError } from './management-error.ts';
import type { ManagementDeps } from './management-deps.ts';
import { existingResource } from './resources.ts';

/**
 * Delegation-chain policies (issue 11 item 1), shared by the admin API: per resource (`max_depth`,
 * `require_human_root`, `allowed_actors`) and per agent (`may_delegate_to`). A token exchange checks them when it
 * mints (policy/chain-policy.ts). Setting one replaces it; every change is audited.
 */

export type DelegationPolicyStore = DelegationPolicyRecords & Pick<ResourceRecords, 'listResources' | 'getResourceByUri'> & Pick<ClientRecords, 'getClient'>;

const clientIds = z.array(z.string().min(1).max(200)).max(100);
const resourcePolicySchema = z
  .object({ max_depth: z.number().int().min(0).max(10).optional(), require_human_root: z.boolean().optional(), allowed_actors: clientIds.optional() })
  .strict();
const agentPolicySchema = z.object({ may_delegate_to: clientIds }).strict();

/** Every id must name an existing client, so that a typo does not silently refuse every chain. */
async function checkClientsExist(ids: readonly string[] | undefined, field: string, deps: ManagementDeps<DelegationPolicyStore>, orResources = false): Promise<void> {
  for (const [i, id] of (ids ?? []).entries()) {
    if (await deps.store.getClient(id)) continue;
    // A resource server acts too when it exchanges a token for a downstream call (its URI is its actor id).
    if (orResources && (await deps.store.getResourceByUri(id))) continue;
    throw new ManagementError('invalid-request', `${field}[${i}]: no client ${id}`, [{ path: `${field}.${i}`, message: 'unknown client' }]);
  }
}

const withoutUndefined = (doc: Record<string, unknown>): DelegationPolicyDocument => Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as DelegationPolicyDocument;

export async function getResourceDelegationPolicy(idOrUri: string, deps: ManagementDeps<DelegationPolicyStore>): Promise<{ resource: string; policy: DelegationPolicyDocument }> {
  const resource = await existingResource(deps, idOrUri);
  return { resource: resource.uri, policy: (await deps.store.getDelegationPolicy('resource', resource.uri)) ?? {} };
}

/** Replaces a resource's policy; `null` (or `{}`) removes it. */
export async function setResourceDelegationPolicy(idOrUri: string, input: unknown, deps: ManagementDeps<DelegationPolicyStore>) {
  const resource = await existingResource(deps, idOrUri);
  const policy = input === null ? null : withoutUndefined(parseInput(resourcePolicySchema, input));
  await checkClientsExist(policy?.allowed_actors, 'allowed_actors', deps, true);
  const stored = policy && Object.keys(policy).length > 0 ? policy : null;
  await deps.store.setDelegationPolicy('resource', resource.uri, stored, deps.now);
  await deps.audit.record({ event: 'resource.delegation_policy_set', actor: deps.actor, subject: resource.uri, detail: { policy: stored } });
  return { resource: resource.uri, policy: stored ?? {} };
}

export async function getAgentDelegationPolicy(clientId: string, deps: ManagementDeps<DelegationPolicyStore>): Promise<{ agent: string; policy: DelegationPolicyDocument }> {
  const agent = await existingClientOfKind(deps, 'agent', clientId);
  return { agent: agent.clientId, policy: (await deps.store.getDelegationPolicy('agent', agent.clientId)) ?? {} };
}

/** Replaces an agent's policy (`may_delegate_to`: the only agents it may pass a token on to); `null` removes it. */
export async function setAgentDelegationPolicy(clientId: string, input: unknown, deps: ManagementDeps<DelegationPolicyStore>) {
  const agent = await existingClientOfKind(deps, 'agent', clientId);
  const policy = input === null ? null : parseInput(agentPolicySchema, input);
  await checkClientsExist(policy?.may_delegate_to, 'may_delegate_to', deps);
  await deps.store.setDelegationPolicy('agent', agent.clientId, policy, deps.now);
  await deps.audit.record({ event: 'agent.delegation_policy_set', actor: deps.actor, subject: agent.clientId, detail: { policy } });
  return { agent: agent.clientId, policy: policy ?? {} };
}
