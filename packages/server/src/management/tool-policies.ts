import { z } from 'zod';
import type { ResourceRecords, ToolPolicyRecord, ToolPolicyRecords } from '../store/store.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';
import { existingResource } from './resources.ts';

/**
 * Tool policies (issue 12 item 4), shared by `mandate resource tool …` and `/admin/v1/resources/{id}/tools`: which
 * tools of a resource server take per-action approvals (RFC 9396 `mcp_tool` details), and at what risk. A tool
 * without a policy takes none: an `mcp_tool` detail naming it is refused with `invalid_authorization_details`.
 */

export type ToolPolicyStore = Pick<ResourceRecords, 'listResources'> & ToolPolicyRecords;

export interface ToolPolicyView {
  tool: string;
  per_action_approval: boolean;
  risk: ToolPolicyRecord['risk'];
  updated_by: string;
  updated_at: number;
}

const toolPolicyView = (r: ToolPolicyRecord): ToolPolicyView => ({ tool: r.tool, per_action_approval: r.perActionApproval, risk: r.risk, updated_by: r.updatedBy, updated_at: r.updatedAt });

const toolName = z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/, 'must be printable');

const policySchema = z
  .object({
    per_action_approval: z.boolean(),
    risk: z.enum(['low', 'medium', 'high', 'critical']).default('high'),
  })
  .strict();

export async function listToolPolicies(idOrUri: string, deps: ManagementDeps<ToolPolicyStore>): Promise<{ resource: string; tools: ToolPolicyView[] }> {
  const resource = await existingResource(deps, idOrUri);
  return { resource: resource.uri, tools: (await deps.store.listToolPolicies(resource.id)).map(toolPolicyView) };
}

/** Sets a tool's policy; audited as `tool_policy.updated`. */
export async function setToolPolicy(idOrUri: string, tool: string, input: unknown, deps: ManagementDeps<ToolPolicyStore>): Promise<ToolPolicyView> {
  const name = parseInput(z.object({ tool: toolName }), { tool }).tool;
  const parsed = parseInput(policySchema, input);
  const resource = await existingResource(deps, idOrUri);
  const previous = await deps.store.getToolPolicy(resource.id, name);
  const record: ToolPolicyRecord = { resourceId: resource.id, tool: name, perActionApproval: parsed.per_action_approval, risk: parsed.risk, updatedBy: deps.actor, updatedAt: deps.now };
  await deps.store.setToolPolicy(record);
  await deps.audit.record({
    event: 'tool_policy.updated',
    actor: deps.actor,
    subject: resource.uri,
    detail: { tool: name, per_action_approval: record.perActionApproval, risk: record.risk, previous: previous ? { per_action_approval: previous.perActionApproval, risk: previous.risk } : null },
  });
  return toolPolicyView(record);
}

/** Removes a tool's policy (it then takes no per-action approval); audited as `tool_policy.deleted`. */
export async function deleteToolPolicy(idOrUri: string, tool: string, deps: ManagementDeps<ToolPolicyStore>): Promise<void> {
  const resource = await existingResource(deps, idOrUri);
  if (!(await deps.store.deleteToolPolicy(resource.id, tool))) throw new ManagementError('not-found', `tool ${tool} of ${resource.uri} has no policy`);
  await deps.audit.record({ event: 'tool_policy.deleted', actor: deps.actor, subject: resource.uri, detail: { tool } });
}
