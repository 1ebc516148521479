import type { AgentRow } from './view-models.ts';
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

/** Agents: create (secret shown once), rotate the secret, disable and enable, delete (after a confirmation). */
export function agentsPage(frame: ConsoleFrame, model: AgentsPageModel): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const v = model.values ?? {};
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Agents', 'AI agents are clients that act for themselves or on behalf of users; each authenticates with its own credential.')}</section>
${
  model.issued
    ? html`<section class="card highlight" aria-labelledby="issued-heading"><h2 id="issued-heading">${model.issued.rotated ? 'New secret for' : 'Agent created:'} ${model.issued.agent.name}</h2>
<p>Client id <code>${model.issued.agent.client_id}</code></p>
${secretOnce('Client secret', model.issued.secret, model.issued.rotated ? 'Give it to the agent now; the previous secret keeps working for its grace period.' : 'Give it to the agent now, with its client id.')}</section>`
    : ''
}
<section class="card" aria-labelledby="list-heading">
<h2 id="list-heading">All agents <span class="count">${model.agents.length}</span></h2>
${
  model.agents.length === 0
    ? emptyState('No agents yet.', edit ? 'Create the first one below.' : 'An admin can create them.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Audiences</th><th scope="col">Authentication</th><th scope="col">Created</th>${edit ? html`<th scope="col">Actions</th>` : ''}</tr></thead><tbody>
${model.agents.map(
  (a) => html`<tr><td><strong>${a.name}</strong><br>${idText(a.client_id)}${a.owner ? html`<br><span class="muted">owner ${a.owner}</span>` : ''}</td>
<td>${statusBadge(a.status)}</td><td>${codeList(a.scopes)}</td><td>${codeList(a.audiences)}</td>
<td><code>${a.token_endpoint_auth_method}</code>${a.previous_secret_expires_at ? html`<br><span class="muted">old secret until ${when(a.previous_secret_expires_at)}</span>` : ''}</td>
<td>${when(a.created_at)}</td>
${
  edit
    ? html`<td class="actions">${a.token_endpoint_auth_method === 'private_key_jwt' ? '' : postButton({ action: `${base}/admin/agents/${a.client_id}/rotate-secret`, csrf, label: 'Rotate secret', ariaLabel: `Rotate the secret of agent ${a.name}`, tone: 'secondary' })}
${
  a.status === 'active'
    ? postButton({ action: `${base}/admin/agents/${a.client_id}/disable`, csrf, label: 'Disable', ariaLabel: `Disable agent ${a.name}`, tone: 'danger' })
    : postButton({ action: `${base}/admin/agents/${a.client_id}/enable`, csrf, label: 'Enable', ariaLabel: `Enable agent ${a.name}`, tone: 'secondary' })
}
${postButton({ action: `${base}/admin/agents/${a.client_id}/delete`, csrf, label: 'Delete', ariaLabel: `Delete agent ${a.name}`, tone: 'danger' })}</td>`
    : ''
}</tr>`,
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
