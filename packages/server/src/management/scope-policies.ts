import { z } from 'zod';
import { DEFAULT_POLICY_BY_RISK, effectivePolicy, minuteOfDay } from '../policy/scope-policy.ts';
import type { ResourceRecords, ResourceScope, ScopePolicyRecords, ScopePolicySetting, ScopePolicyVersionRecord } from '../store/store.ts';
import { StoreConflictError } from '../store/store.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';
import { existingResource } from './resources.ts';

/**
 * Scope policies (issue 12 item 1), shared by `mandate resource policy …` and `/admin/v1/resources/{id}/policies`.
 * Each edit stores a new version (with who made it) and is audited; the resource keeps the current one on its scope.
 */

export type ScopePolicyStore = Pick<ResourceRecords, 'listResources'> & ScopePolicyRecords;

export interface ScopePolicyView {
  scope: string;
  risk: ResourceScope['risk'];
  policy: ScopePolicySetting['kind'];
  role?: string;
  /** `admin_approval` only: `user` when the user on whose behalf the agent acts may decide too. */
  approver?: 'approvers' | 'user';
  conditions?: {
    clients?: string[];
    max_token_lifetime_seconds?: number;
    max_chain_depth?: number;
    time_window?: { from: string; to: string };
  };
  /** 0: no policy set, the risk's default applies. */
  version: number;
  source: 'set' | 'default';
}

function policyView(scope: ResourceScope): ScopePolicyView {
  const setting = effectivePolicy(scope);
  const c = setting.conditions;
  return {
    scope: scope.name,
    risk: scope.risk,
    policy: setting.kind,
    ...(setting.role ? { role: setting.role } : {}),
    ...(setting.kind === 'admin_approval' ? { approver: setting.approver ?? 'approvers' } : {}),
    ...(c
      ? {
          conditions: {
            ...(c.clients ? { clients: c.clients } : {}),
            ...(c.maxTokenLifetimeSeconds !== undefined ? { max_token_lifetime_seconds: c.maxTokenLifetimeSeconds } : {}),
            ...(c.maxChainDepth !== undefined ? { max_chain_depth: c.maxChainDepth } : {}),
            ...(c.timeWindow ? { time_window: c.timeWindow } : {}),
          },
        }
      : {}),
    version: setting.version,
    source: scope.policy ? 'set' : 'default',
  };
}

const hhmm = z.string().refine((v) => minuteOfDay(v) !== null, 'must be HH:MM (UTC, 00:00–23:59)');

const policySchema = z
  .object({
    policy: z.enum(['auto', 'user_consent', 'admin_approval', 'role_required', 'deny']),
    role: z.string().regex(/^[a-z0-9][a-z0-9_:-]{0,63}$/, 'must be a role name (a-z, 0-9, _ - :)').optional(),
    approver: z.enum(['approvers', 'user']).optional(),
    risk: z.enum(['low', 'medium', 'high', 'critical']).optional(),
    conditions: z
      .object({
        clients: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
        max_token_lifetime_seconds: z.number().int().min(1).max(86_400).optional(),
        max_chain_depth: z.number().int().min(0).max(10).optional(),
        time_window: z.object({ from: hhmm, to: hhmm }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.policy === 'role_required' && !value.role) ctx.addIssue({ code: 'custom', path: ['role'], message: 'role_required needs a role' });
    if (value.policy !== 'role_required' && value.role) ctx.addIssue({ code: 'custom', path: ['role'], message: 'only role_required takes a role' });
    if (value.policy !== 'admin_approval' && value.approver) ctx.addIssue({ code: 'custom', path: ['approver'], message: 'only admin_approval takes an approver' });
  });

function findScope(scopes: readonly ResourceScope[], name: string, resource: string): ResourceScope {
  const scope = scopes.find((s) => s.name === name);
  if (!scope) throw new ManagementError('not-found', `resource ${resource} defines no scope ${name}`);
  return scope;
}

/** Every scope of the resource with its effective policy (the default of its risk when none is set). */
export async function listScopePolicies(idOrUri: string, deps: ManagementDeps<ScopePolicyStore>): Promise<{ resource: string; policies: ScopePolicyView[]; defaults: typeof DEFAULT_POLICY_BY_RISK }> {
  const resource = await existingResource(deps, idOrUri);
  return { resource: resource.uri, policies: resource.scopes.map(policyView), defaults: DEFAULT_POLICY_BY_RISK };
}

/** Sets a scope's policy (and optionally its risk) as a new version; audited as `scope_policy.updated`. */
export async function setScopePolicy(idOrUri: string, scopeName: string, input: unknown, deps: ManagementDeps<ScopePolicyStore>): Promise<ScopePolicyView> {
  const parsed = parseInput(policySchema, input);
  const resource = await existingResource(deps, idOrUri);
  const current = findScope(resource.scopes, scopeName, resource.uri);
  const c = parsed.conditions;
  const policy: ScopePolicySetting = {
    kind: parsed.policy,
    ...(parsed.role ? { role: parsed.role } : {}),
    ...(parsed.approver === 'user' ? { approver: 'user' as const } : {}),
    ...(c
      ? {
          conditions: {
            ...(c.clients ? { clients: [...new Set(c.clients)] } : {}),
            ...(c.max_token_lifetime_seconds !== undefined ? { maxTokenLifetimeSeconds: c.max_token_lifetime_seconds } : {}),
            ...(c.max_chain_depth !== undefined ? { maxChainDepth: c.max_chain_depth } : {}),
            ...(c.time_window ? { timeWindow: c.time_window } : {}),
          },
        }
      : {}),
    version: (current.policy?.version ?? 0) + 1,
  };
  const updated: ResourceScope = { ...current, risk: parsed.risk ?? current.risk, policy };
  const version: ScopePolicyVersionRecord = { resourceId: resource.id, scope: scopeName, version: policy.version, risk: updated.risk, policy, changedBy: deps.actor, changedAt: deps.now };
  try {
    await deps.store.saveScopePolicy(resource.id, resource.scopes.map((s) => (s.name === scopeName ? updated : s)), version);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ManagementError('conflict', `the policy of ${scopeName} was changed meanwhile; read it again`);
    throw err;
  }
  const view = policyView(updated);
  await deps.audit.record({
    event: 'scope_policy.updated',
    actor: deps.actor,
    subject: resource.uri,
    detail: { scope: scopeName, version: policy.version, policy: view.policy, ...(view.role ? { role: view.role } : {}), risk: view.risk, conditions: view.conditions ?? null, previous: current.policy ? current.policy.kind : `default:${effectivePolicy(current).kind}` },
  });
  return view;
}

/** Every stored version of a scope's policy, oldest first. */
export async function scopePolicyHistory(idOrUri: string, scopeName: string, deps: ManagementDeps<ScopePolicyStore>): Promise<{ scope: string; versions: (ScopePolicyView & { changed_by: string; changed_at: number })[] }> {
  const resource = await existingResource(deps, idOrUri);
  findScope(resource.scopes, scopeName, resource.uri);
  const versions = await deps.store.listScopePolicyVersions(resource.id, scopeName);
  return {
    scope: scopeName,
    versions: versions.map((v) => ({ ...policyView({ name: v.scope, description: null, risk: v.risk, policy: v.policy }), changed_by: v.changedBy, changed_at: v.changedAt })),
  };
}
