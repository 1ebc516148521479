import type { ResourceRow, ScopePolicyRow, ScopePolicyVersionRow } from './view-models.ts';
import { html } from '../html.ts';
import { badge, type ConsoleFrame, csrfField, emptyState, field, pageHeading, postButton, riskBadge, secretOnce, select, when } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface ResourcesPageModel {
  resources: ResourceRow[];
  issued?: { resource: ResourceRow; apiKey: string } | undefined;
  values?: Record<string, string> | undefined;
}

/** Scopes as the form writes them: one per line, `name risk description…`. */
export const scopeLines = (r: ResourceRow): string => r.scopes.map((s) => `${s.name} ${s.risk}${s.description ? ` ${s.description}` : ''}`).join('\n');

const SCOPE_HINT = 'One per line: name, risk (low, medium, high, critical), then a description for the consent page. Example: files:read medium Read your files';

/** Resource servers (APIs, MCP servers) with their scopes; register one (its API key is shown once). */
export function resourcesPage(frame: ConsoleFrame, model: ResourcesPageModel): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const v = model.values ?? {};
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Resources and scope policies', 'APIs and MCP servers that accept Mandate tokens, their scopes, and what each scope needs: nothing, the user’s consent, an approver, a role, or never.')}</section>
${
  model.issued
    ? html`<section class="card highlight" aria-labelledby="issued-heading"><h2 id="issued-heading">API key for ${model.issued.resource.resource}</h2>
${secretOnce('API key', model.issued.apiKey, 'The resource server uses it to introspect tokens and to subscribe to revocation events.')}</section>`
    : ''
}
<section class="card" aria-labelledby="list-heading">
<h2 id="list-heading">All resources <span class="count">${model.resources.length}</span></h2>
${
  model.resources.length === 0
    ? emptyState('No resources yet.', edit ? 'Register an API or MCP server below.' : 'An admin can register them.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Resource</th><th scope="col">Scopes</th><th scope="col">Updated</th><th scope="col">Actions</th></tr></thead><tbody>
${model.resources.map(
  (r) => html`<tr><td><a href="${base}/admin/resources/${r.id}"><strong>${r.name}</strong></a><br><code>${r.resource}</code></td>
<td>${r.scopes.length === 0 ? html`<span class="muted">none</span>` : r.scopes.map((s) => html`<span class="scope-chip"><code>${s.name}</code> ${riskBadge(s.risk)}${s.policy ? badge(s.policy.kind, 'info') : ''}</span> `)}</td>
<td>${when(r.updated_at)}</td>
<td class="actions"><a class="button small secondary" href="${base}/admin/resources/${r.id}" aria-label="Scopes and policies of ${r.name}">Policies</a></td></tr>`,
)}</tbody></table></div>`
}
</section>
${
  edit
    ? html`<section class="card" aria-labelledby="create-heading"><h2 id="create-heading">Register a resource</h2>
<form method="post" action="${base}/admin/resources" class="grid-form">${csrfField(csrf)}
${field({ form: 'resource', name: 'resource', label: 'Resource URI', value: v['resource'], required: true, hint: 'The audience tokens will carry, e.g. https://mcp.example.com/mcp' })}
${field({ form: 'resource', name: 'name', label: 'Name', value: v['name'] })}
${field({ form: 'resource', name: 'scopes', label: 'Scopes', value: v['scopes'], lines: 4, hint: SCOPE_HINT })}
<div class="form-actions"><button type="submit">Register resource</button></div>
</form></section>`
    : ''
}`;
  return consolePage(frame, 'Resources', body);
}

export interface ResourcePageModel {
  resource: ResourceRow;
  policies: ScopePolicyRow[];
  history: Map<string, ScopePolicyVersionRow[]>;
  defaults: Record<string, string>;
  issued?: string | undefined;
}

const POLICY_OPTIONS = [
  { value: 'auto', label: 'auto: granted without asking' },
  { value: 'user_consent', label: 'user_consent: the user consents' },
  { value: 'admin_approval', label: 'admin_approval: an approver decides' },
  { value: 'role_required', label: 'role_required: only users with a role' },
  { value: 'deny', label: 'deny: never granted' },
];
const APPROVER_OPTIONS = [
  { value: 'approvers', label: 'approvers (users with the approver role)' },
  { value: 'user', label: 'also the user the agent acts for (on /account)' },
];
const RISK_OPTIONS = ['low', 'medium', 'high', 'critical'].map((r) => ({ value: r, label: r }));

function conditionsText(p: ScopePolicyRow): string {
  const c = p.conditions;
  if (!c) return '';
  return [
    c.clients ? `clients ${c.clients.join(', ')}` : '',
    c.max_token_lifetime_seconds !== undefined ? `tokens ≤ ${c.max_token_lifetime_seconds}s` : '',
    c.max_chain_depth !== undefined ? `chain depth ≤ ${c.max_chain_depth}` : '',
    c.time_window ? `${c.time_window.from}–${c.time_window.to} UTC` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** One resource: each scope's policy (editable by an admin, each save a new audited version), its scopes, its key. */
export function resourcePage(frame: ConsoleFrame, model: ResourcePageModel): string {
  const { base, csrf } = frame;
  const r = model.resource;
  const edit = frame.canChange;
  const body = html`<section aria-labelledby="title"><p class="crumbs"><a href="${base}/admin/resources">Resources</a> /</p>
${pageHeading(frame, r.name, r.resource)}</section>
${model.issued ? html`<section class="card highlight" aria-labelledby="issued-heading"><h2 id="issued-heading">New API key</h2>${secretOnce('API key', model.issued, 'Give it to the resource server; the previous key keeps working for its grace period.')}</section>` : ''}
<section class="card" aria-labelledby="policies-heading"><h2 id="policies-heading">Scope policies</h2>
<p class="muted">Without a policy of its own a scope follows its risk’s default: ${Object.entries(model.defaults).map(([risk, kind]) => `${risk} → ${kind}`).join(', ')}.</p>
${
  model.policies.length === 0
    ? emptyState('This resource defines no scopes.', 'Add scopes below; each gets its risk’s default policy.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Scope</th><th scope="col">Risk</th><th scope="col">Policy</th><th scope="col">Conditions</th><th scope="col">Version</th></tr></thead><tbody>
${model.policies.map((p) => {
  const versions = model.history.get(p.scope) ?? [];
  return html`<tr id="scope-${p.scope}"><th scope="row"><code>${p.scope}</code></th><td>${riskBadge(p.risk)}</td>
<td><strong>${p.policy}</strong>${p.role ? html` <code>${p.role}</code>` : ''}${p.approver === 'user' ? html` <span class="muted">(the user may decide)</span>` : ''} ${p.source === 'default' ? badge('default', 'neutral') : ''}</td>
<td>${conditionsText(p) || html`<span class="muted">none</span>`}</td>
<td>${p.version === 0 ? html`<span class="muted">—</span>` : `v${p.version}`}${
    versions.length
      ? html`<details><summary>History</summary><ol>${versions.map((h) => html`<li>v${h.version}: ${h.policy}${h.role ? ` (${h.role})` : ''}, ${h.risk} — ${h.changed_by}, ${when(h.changed_at)}</li>`)}</ol></details>`
      : ''
  }</td></tr>
${
  edit
    ? html`<tr class="editor"><td colspan="5"><details><summary>Edit the policy of ${p.scope}</summary>
<form method="post" action="${base}/admin/resources/${r.id}/policies/${encodeURIComponent(p.scope)}" class="grid-form compact">${csrfField(csrf)}
${select({ form: `p-${p.scope}`, name: 'policy', label: 'Policy', value: p.policy, options: POLICY_OPTIONS })}
${field({ form: `p-${p.scope}`, name: 'role', label: 'Role (role_required only)', value: p.role })}
${select({ form: `p-${p.scope}`, name: 'approver', label: 'Who approves (admin_approval only)', value: p.approver ?? 'approvers', options: APPROVER_OPTIONS })}
${select({ form: `p-${p.scope}`, name: 'risk', label: 'Risk', value: p.risk, options: RISK_OPTIONS })}
${field({ form: `p-${p.scope}`, name: 'clients', label: 'Only these clients or agents', value: p.conditions?.clients?.join(' '), hint: 'Client ids separated by spaces; empty: any.' })}
${field({ form: `p-${p.scope}`, name: 'max_token_lifetime_seconds', label: 'Maximum token lifetime (seconds)', type: 'number', value: p.conditions?.max_token_lifetime_seconds?.toString() })}
${field({ form: `p-${p.scope}`, name: 'max_chain_depth', label: 'Maximum delegation chain depth', type: 'number', value: p.conditions?.max_chain_depth?.toString() })}
${field({ form: `p-${p.scope}`, name: 'time_from', label: 'Allowed from (HH:MM UTC)', value: p.conditions?.time_window?.from })}
${field({ form: `p-${p.scope}`, name: 'time_to', label: 'Allowed until (HH:MM UTC)', value: p.conditions?.time_window?.to })}
<div class="form-actions"><button type="submit">Save policy of ${p.scope}</button></div>
</form></details></td></tr>`
    : ''
}`;
})}</tbody></table></div>`
}
</section>
${
  edit
    ? html`<section class="card" aria-labelledby="scopes-heading"><h2 id="scopes-heading">Scopes</h2>
<form method="post" action="${base}/admin/resources/${r.id}/scopes" class="grid-form">${csrfField(csrf)}
${field({ form: 'scopes', name: 'scopes', label: 'Scopes', value: scopeLines(r), lines: Math.max(3, r.scopes.length + 1), hint: SCOPE_HINT })}
<div class="form-actions"><button type="submit">Save scopes</button></div></form></section>
<section class="card danger-zone" aria-labelledby="key-heading"><h2 id="key-heading">API key and removal</h2>
${postButton({ action: `${base}/admin/resources/${r.id}/rotate-key`, csrf, label: 'Rotate API key', tone: 'secondary' })}
${postButton({ action: `${base}/admin/resources/${r.id}/delete`, csrf, label: 'Delete resource', tone: 'danger' })}</section>`
    : ''
}`;
  return consolePage(frame, r.name, body);
}
