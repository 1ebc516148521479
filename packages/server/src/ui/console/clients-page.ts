import type { ClientRow } from './view-models.ts';
import { html } from '../html.ts';
import { badge, codeList, csrfField, emptyState, field, idText, pageHeading, postButton, secretOnce, select, statusBadge, type ConsoleFrame, when } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface ClientsPageModel {
  clients: ClientRow[];
  issued?: { client: ClientRow; secret: string } | undefined;
  values?: Record<string, string> | undefined;
}

const authLabel = (c: ClientRow) =>
  c.token_endpoint_auth_method === 'none' ? badge('public (PKCE)', 'info') : html`${badge('confidential', 'neutral')}<br><span class="id">${c.token_endpoint_auth_method}</span>`;

const origin = (c: ClientRow) =>
  c.registration ? badge(c.registration.source === 'dynamic' ? 'self-registered' : 'metadata document', 'warn') : '';

/** OAuth clients (applications): the list, and a form to register one with its redirect URIs and authentication. */
export function clientsPage(frame: ConsoleFrame, model: ClientsPageModel): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const v = model.values ?? {};
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'OAuth clients', 'Applications that sign users in and ask for access on their behalf (authorization code with PKCE).')}</section>
${
  model.issued
    ? html`<section class="card highlight" aria-labelledby="issued-heading"><h2 id="issued-heading">Client created: ${model.issued.client.name}</h2>
<p>Client id <code>${model.issued.client.client_id}</code></p>${secretOnce('Client secret', model.issued.secret, 'Put it in the application’s configuration now.')}</section>`
    : ''
}
<section class="card" aria-labelledby="list-heading">
<h2 id="list-heading">All clients <span class="count">${model.clients.length}</span></h2>
${
  model.clients.length === 0
    ? emptyState('No OAuth clients yet.', edit ? 'Register the first application below.' : 'An admin can register them.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Client</th><th scope="col">Status</th><th scope="col">Redirect URIs</th><th scope="col">Authentication</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead><tbody>
${model.clients.map(
  (c) => html`<tr><td><a href="${base}/admin/clients/${encodeURIComponent(c.client_id)}"><strong>${c.name}</strong></a> ${origin(c)}<br>${idText(c.client_id)}</td>
<td>${statusBadge(c.status)}</td><td>${codeList(c.redirect_uris)}</td><td>${authLabel(c)}</td><td>${codeList(c.scopes)}</td><td>${when(c.created_at)}</td>
<td class="actions"><a class="button small secondary" href="${base}/admin/clients/${encodeURIComponent(c.client_id)}" aria-label="${edit ? 'Edit' : 'View'} client ${c.name}">${edit ? 'Edit' : 'View'}</a></td></tr>`,
)}</tbody></table></div>`
}
</section>
${
  edit
    ? html`<section class="card" aria-labelledby="create-heading">
<h2 id="create-heading">Register a client</h2>
<form method="post" action="${base}/admin/clients" class="grid-form">${csrfField(csrf)}
${field({ form: 'client', name: 'name', label: 'Name', value: v['name'], required: true, hint: 'Users see it on the consent page.' })}
${field({ form: 'client', name: 'redirect_uris', label: 'Redirect URIs', value: v['redirect_uris'], required: true, lines: 3, hint: 'One per line: exact https URIs (http only for localhost), no fragments.' })}
${select({
  form: 'client',
  name: 'client_type',
  label: 'Client type and authentication',
  value: v['client_type'] ?? 'confidential',
  options: [
    { value: 'confidential', label: 'Confidential (client secret)' },
    { value: 'public', label: 'Public (PKCE only, no secret)' },
  ],
  hint: 'Confidential: a server-side app that keeps a secret (client_secret_basic). Public: a browser, mobile or desktop app (none).',
})}
${field({ form: 'client', name: 'scopes', label: 'Scopes', value: v['scopes'], hint: 'Separated by spaces: what it may ask users for.' })}
${field({ form: 'client', name: 'audiences', label: 'Audiences', value: v['audiences'], hint: 'Resource URIs, separated by spaces.' })}
${field({ form: 'client', name: 'owner', label: 'Owner email', type: 'email', value: v['owner'] })}
<div class="form-actions"><button type="submit">Register client</button></div>
</form></section>`
    : ''
}`;
  return consolePage(frame, 'OAuth clients', body);
}

/** A confidential client authenticating with a secret (not a public one, not private_key_jwt). */
const hasSecret = (client: ClientRow) => client.token_endpoint_auth_method === 'client_secret_basic' || client.token_endpoint_auth_method === 'client_secret_post';

/** One client: its details and, for an admin, the edit form, secret rotation (`secret`: just issued, shown once), disable/enable and delete. */
export function clientPage(frame: ConsoleFrame, client: ClientRow, values?: Record<string, string>, secret?: string): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const v = values ?? {
    name: client.name,
    redirect_uris: client.redirect_uris.join('\n'),
    scopes: client.scopes.join(' '),
    default_scopes: client.default_scopes.join(' '),
    audiences: client.audiences.join(' '),
    description: client.description ?? '',
  };
  const id = encodeURIComponent(client.client_id);
  const body = html`<section aria-labelledby="title">
<p class="crumbs"><a href="${base}/admin/clients">OAuth clients</a> /</p>
${pageHeading(frame, client.name)}
<dl class="facts"><dt>Client id</dt><dd><code>${client.client_id}</code></dd><dt>Status</dt><dd>${statusBadge(client.status)}</dd>
<dt>Authentication</dt><dd>${authLabel(client)}</dd><dt>Grant types</dt><dd>${codeList(client.grant_types)}</dd>
<dt>Registered</dt><dd>${when(client.created_at)}${client.registration ? html` ${origin(client)}` : ''}</dd><dt>Updated</dt><dd>${when(client.updated_at)}</dd></dl>
</section>
${
  secret
    ? html`<section class="card highlight" aria-labelledby="issued-heading"><h2 id="issued-heading">New secret for ${client.name}</h2>
${secretOnce('Client secret', secret, 'Put it in the application’s configuration now; the previous secret keeps working for its grace period.')}</section>`
    : ''
}
${
  edit
    ? html`<section class="card" aria-labelledby="edit-heading"><h2 id="edit-heading">Edit</h2>
<form method="post" action="${base}/admin/clients/${id}" class="grid-form">${csrfField(csrf)}
${field({ form: 'edit', name: 'name', label: 'Name', value: v['name'], required: true })}
${field({ form: 'edit', name: 'description', label: 'Description', value: v['description'] })}
${field({ form: 'edit', name: 'redirect_uris', label: 'Redirect URIs', value: v['redirect_uris'], required: true, lines: 3, hint: 'One per line.' })}
${field({ form: 'edit', name: 'scopes', label: 'Scopes', value: v['scopes'] })}
${field({ form: 'edit', name: 'default_scopes', label: 'Default scopes', value: v['default_scopes'], hint: 'What it gets when it asks for no scope.' })}
${field({ form: 'edit', name: 'audiences', label: 'Audiences', value: v['audiences'] })}
<div class="form-actions"><button type="submit">Save changes</button></div>
</form></section>
<section class="card danger-zone" aria-labelledby="danger-heading"><h2 id="danger-heading">Credentials and status</h2>
<p class="muted">${hasSecret(client) ? 'Rotating shows the new secret once; the old one keeps working for its grace period. ' : ''}Disabling ends every token and grant of this client at once; enabling it again revives none.</p>
${hasSecret(client) ? postButton({ action: `${base}/admin/clients/${id}/rotate-secret`, csrf, label: 'Rotate secret', tone: 'secondary' }) : ''}
${
  client.status === 'active'
    ? postButton({ action: `${base}/admin/clients/${id}/disable`, csrf, label: 'Disable client', tone: 'danger' })
    : postButton({ action: `${base}/admin/clients/${id}/enable`, csrf, label: 'Enable client', tone: 'secondary' })
}
${postButton({ action: `${base}/admin/clients/${id}/delete`, csrf, label: 'Delete client', tone: 'danger' })}
</section>`
    : html`<section class="card"><h2>Configuration</h2><dl class="facts"><dt>Redirect URIs</dt><dd>${codeList(client.redirect_uris)}</dd><dt>Scopes</dt><dd>${codeList(client.scopes)}</dd><dt>Audiences</dt><dd>${codeList(client.audiences)}</dd></dl></section>`
}`;
  return consolePage(frame, client.name, body);
}
