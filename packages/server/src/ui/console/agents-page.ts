import type { AgentDetail, AgentRow } from './view-models.ts';
import { html } from '../html.ts';
import { codeList, csrfField, emptyState, field, idText, pageHeading, postButton, secretOnce, select, statusBadge, type ConsoleFrame, when } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface AgentsPageModel {
  agents: AgentRow[];
  /** Registered resource URIs, offered as audiences. */
  resources: string[];
  /** A secret just issued (creation or rotation), shown once. */
  issued?: { agent: AgentRow; secret: string; rotated: boolean } | undefined;
  /** The create form's values after a refusal. */
  values?: Record<string, string> | undefined;
}

/** Agents: create (secret shown once), rotate the secret, disable and enable, delete (after a confirmation); each name opens its edit page. */
export function agentsPage(frame: ConsoleFrame, model: AgentsPageModel): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const v = model.values ?? {};
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Agents', 'AI agents are clients that act for themselves or on behalf of users; each authenticates with its own credential.')}</section>
${model.issued ? issuedSecret(model.issued) : ''}
<section class="card" aria-labelledby="list-heading">
<h2 id="list-heading">All agents <span class="count">${model.agents.length}</span></h2>
${
  model.agents.length === 0
    ? emptyState('No agents yet.', edit ? 'Create the first one below.' : 'An admin can create them.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Audiences</th><th scope="col">Authentication</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead><tbody>
${model.agents.map(
  (a) => html`<tr><td><a href="${base}/admin/agents/${encodeURIComponent(a.client_id)}"><strong>${a.name}</strong></a><br>${idText(a.client_id)}${a.owner ? html`<br><span class="muted">owner ${a.owner}</span>` : ''}</td>
<td>${statusBadge(a.status)}</td><td>${codeList(a.scopes)}</td><td>${codeList(a.audiences)}</td>
<td><code>${a.token_endpoint_auth_method}</code>${a.previous_secret_expires_at ? html`<br><span class="muted">old secret until ${when(a.previous_secret_expires_at)}</span>` : ''}</td>
<td>${when(a.created_at)}</td>
<td class="actions"><a class="button small secondary" href="${base}/admin/agents/${encodeURIComponent(a.client_id)}" aria-label="${edit ? 'Edit' : 'View'} agent ${a.name}">${edit ? 'Edit' : 'View'}</a>
${
  edit
    ? html`${a.token_endpoint_auth_method === 'private_key_jwt' ? '' : postButton({ action: `${base}/admin/agents/${a.client_id}/rotate-secret`, csrf, label: 'Rotate secret', ariaLabel: `Rotate the secret of agent ${a.name}`, tone: 'secondary' })}
${
  a.status === 'active'
    ? postButton({ action: `${base}/admin/agents/${a.client_id}/disable`, csrf, label: 'Disable', ariaLabel: `Disable agent ${a.name}`, tone: 'danger' })
    : postButton({ action: `${base}/admin/agents/${a.client_id}/enable`, csrf, label: 'Enable', ariaLabel: `Enable agent ${a.name}`, tone: 'secondary' })
}
${postButton({ action: `${base}/admin/agents/${a.client_id}/delete`, csrf, label: 'Delete', ariaLabel: `Delete agent ${a.name}`, tone: 'danger' })}`
    : ''
}</td></tr>`,
)}</tbody></table></div>`
}
</section>
${
  edit
    ? html`<section class="card" aria-labelledby="create-heading">
<h2 id="create-heading">Create an agent</h2>
<form method="post" action="${base}/admin/agents" class="grid-form">${csrfField(csrf)}
${field({ form: 'agent', name: 'name', label: 'Name', value: v['name'], required: true })}
${field({ form: 'agent', name: 'owner', label: 'Owner email', type: 'email', value: v['owner'], hint: 'Who answers for this agent.' })}
${field({ form: 'agent', name: 'description', label: 'Description', value: v['description'] })}
${field({ form: 'agent', name: 'scopes', label: 'Scopes', value: v['scopes'], hint: 'Separated by spaces: the most this agent may ever hold.' })}
${field({ form: 'agent', name: 'audiences', label: 'Audiences', value: v['audiences'], hint: `Resource URIs, separated by spaces. Registered: ${model.resources.join(' ') || 'none yet'}` })}
${select({
  form: 'agent',
  name: 'token_endpoint_auth_method',
  label: 'Authentication',
  value: v['token_endpoint_auth_method'] ?? 'client_secret_basic',
  options: [
    { value: 'client_secret_basic', label: 'Client secret (HTTP Basic)' },
    { value: 'client_secret_post', label: 'Client secret (form post)' },
    { value: 'private_key_jwt', label: 'Private key JWT (give its public JWK Set below)' },
  ],
})}
${field({ form: 'agent', name: 'jwks', label: 'Public JWK Set (private_key_jwt only)', value: v['jwks'], lines: 3, hint: 'JSON: {"keys": [...]}' })}
<div class="form-actions"><button type="submit">Create agent</button></div>
</form></section>`
    : ''
}`;
  return consolePage(frame, 'Agents', body);
}

/** The secret just issued for an agent (creation or rotation), shown once. */
function issuedSecret(issued: NonNullable<AgentsPageModel['issued']>) {
  return html`<section class="card highlight" aria-labelledby="issued-heading"><h2 id="issued-heading">${issued.rotated ? 'New secret for' : 'Agent created:'} ${issued.agent.name}</h2>
<p>Client id <code>${issued.agent.client_id}</code></p>
${secretOnce('Client secret', issued.secret, issued.rotated ? 'Give it to the agent now; the previous secret keeps working for its grace period.' : 'Give it to the agent now, with its client id.')}</section>`;
}

const checkbox = (form: string, name: string, label: string, checked: boolean, hint: string) =>
  html`<div class="field"><input type="checkbox" id="${form}-${name}" name="${name}" value="yes"${checked ? html` checked` : ''} aria-describedby="${form}-${name}-hint"> <label for="${form}-${name}" class="inline-label">${label}</label><span class="hint" id="${form}-${name}-hint">${hint}</span></div>`;

/** The form's values for an agent as stored (a refused form comes back with what was typed instead). */
function agentValues(a: AgentDetail): Record<string, string> {
  return {
    name: a.name,
    description: a.description ?? '',
    owner: a.owner ?? '',
    scopes: a.scopes.join(' '),
    audiences: a.audiences.join(' '),
    access_token_ttl_seconds: a.access_token_ttl_seconds === null ? '' : String(a.access_token_ttl_seconds),
    dpop_bound_access_tokens: a.dpop_bound_access_tokens ? 'yes' : '',
    txn_tokens: a.txn_tokens ? 'yes' : '',
    backchannel_token_delivery_mode: a.backchannel_token_delivery_mode,
    backchannel_client_notification_endpoint: a.backchannel_client_notification_endpoint ?? '',
    jwks: a.jwks ? JSON.stringify(a.jwks) : '',
  };
}

/** One agent: its facts and, for an admin, the edit form (what PATCH /admin/v1/agents/{id} takes), the secret rotation, disable/enable and delete. */
export function agentPage(frame: ConsoleFrame, model: { agent: AgentDetail; resources: string[]; values?: Record<string, string> | undefined; issued?: AgentsPageModel['issued'] }): string {
  const { base, csrf } = frame;
  const a = model.agent;
  const id = encodeURIComponent(a.client_id);
  const v = model.values ?? agentValues(a);
  const usesSecret = a.token_endpoint_auth_method !== 'private_key_jwt';
  const body = html`<section aria-labelledby="title">
<p class="crumbs"><a href="${base}/admin/agents">Agents</a> /</p>
${pageHeading(frame, a.name)}
<dl class="facts"><dt>Client id</dt><dd><code>${a.client_id}</code></dd><dt>Status</dt><dd>${statusBadge(a.status)}</dd>
<dt>Authentication</dt><dd><code>${a.token_endpoint_auth_method}</code>${a.previous_secret_expires_at ? html` <span class="muted">(old secret until ${when(a.previous_secret_expires_at)})</span>` : ''}</dd>
<dt>Created</dt><dd>${when(a.created_at)}</dd><dt>Updated</dt><dd>${when(a.updated_at)}</dd></dl>
</section>
${model.issued ? issuedSecret(model.issued) : ''}
${
  frame.canChange
    ? html`<section class="card" aria-labelledby="edit-heading"><h2 id="edit-heading">Edit</h2>
<form method="post" action="${base}/admin/agents/${id}" class="grid-form">${csrfField(csrf)}
${field({ form: 'edit', name: 'name', label: 'Name', value: v['name'], required: true })}
${field({ form: 'edit', name: 'description', label: 'Description', value: v['description'] })}
${field({ form: 'edit', name: 'owner', label: 'Owner email', type: 'email', value: v['owner'], hint: 'Who answers for this agent.' })}
${field({ form: 'edit', name: 'scopes', label: 'Scopes', value: v['scopes'], hint: 'Separated by spaces: the most this agent may ever hold. Tokens it holds keep only what is still allowed.' })}
${field({ form: 'edit', name: 'audiences', label: 'Audiences', value: v['audiences'], hint: `Resource URIs, separated by spaces. Registered: ${model.resources.join(' ') || 'none yet'}` })}
${field({ form: 'edit', name: 'access_token_ttl_seconds', label: 'Access token lifetime (seconds)', type: 'number', value: v['access_token_ttl_seconds'], hint: 'Blank: the server default.' })}
${checkbox('edit', 'dpop_bound_access_tokens', 'DPoP-bound tokens only', v['dpop_bound_access_tokens'] === 'yes', 'Every token request must carry a DPoP proof (RFC 9449).')}
${checkbox('edit', 'txn_tokens', 'May request Transaction Tokens', v['txn_tokens'] === 'yes', 'A workload of this trust domain.')}
${select({
  form: 'edit',
  name: 'backchannel_token_delivery_mode',
  label: 'CIBA delivery',
  value: v['backchannel_token_delivery_mode'] ?? 'poll',
  options: [
    { value: 'poll', label: 'Poll' },
    { value: 'ping', label: 'Ping (needs a notification endpoint)' },
  ],
})}
${field({ form: 'edit', name: 'backchannel_client_notification_endpoint', label: 'CIBA notification endpoint', type: 'url', value: v['backchannel_client_notification_endpoint'] })}
${usesSecret ? '' : field({ form: 'edit', name: 'jwks', label: 'Public JWK Set', value: v['jwks'], lines: 3, hint: 'JSON: {"keys": [...]}' })}
<div class="form-actions"><button type="submit">Save changes</button></div>
</form></section>
<section class="card danger-zone" aria-labelledby="danger-heading"><h2 id="danger-heading">Credentials and status</h2>
<p class="muted">Rotating shows the new secret once; the old one keeps working for its grace period. Disabling ends every token of this agent at once; enabling it again revives none.</p>
${usesSecret ? postButton({ action: `${base}/admin/agents/${id}/rotate-secret`, csrf, label: 'Rotate secret', tone: 'secondary'}) : ''}
${
  a.status === 'active'
    ? postButton({ action: `${base}/admin/agents/${id}/disable`, csrf, label: 'Disable agent', tone: 'danger' })
    : postButton({ action: `${base}/admin/agents/${id}/enable`, csrf, label: 'Enable agent', tone: 'secondary' })
}
${postButton({ action: `${base}/admin/agents/${id}/delete`, csrf, label: 'Delete agent', tone: 'danger' })}
</section>`
    : html`<section class="card"><h2>Configuration</h2><dl class="facts"><dt>Scopes</dt><dd>${codeList(a.scopes)}</dd><dt>Audiences</dt><dd>${codeList(a.audiences)}</dd></dl></section>`
}`;
  return consolePage(frame, a.name, body);
}
