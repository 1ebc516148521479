import type { GrantRow, TokenRow } from './view-models.ts';
import { html } from '../html.ts';
import { codeList, emptyState, idText, pageHeading, postButton, statusBadge, type ConsoleFrame, when } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface GrantsPageModel {
  grants: GrantRow[];
  tokens: TokenRow[];
  names: ReadonlyMap<string, string>;
}

/** Active user grants (each revocable with everything derived from it) and live access tokens (each revocable with its lineage). */
export function grantsPage(frame: ConsoleFrame, model: GrantsPageModel): string {
  const { base, csrf } = frame;
  const edit = frame.canChange;
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Grants and tokens', 'What users authorized and what is out there now. Revoking a grant ends its refresh tokens and every access token issued on it, including tokens exchanged from them; revoking a token ends it and every token exchanged from it.')}</section>
<section class="card" aria-labelledby="grants-heading"><h2 id="grants-heading">Active grants <span class="count">${model.grants.length}</span></h2>
${
  model.grants.length === 0
    ? emptyState('No active grants.', 'A grant appears when a user authorizes an application or agent, or a CIBA request is approved.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">User</th><th scope="col">Client and agent</th><th scope="col">Scopes and resources</th><th scope="col">Since / until</th>${edit ? html`<th scope="col">Actions</th>` : ''}</tr></thead><tbody>
${model.grants.map(
  (g) => html`<tr><td>${g.user_email ?? g.user_id}<br>${idText(g.user_id)}</td>
<td>${g.client_name}<br>${idText(g.client_id)}${g.actor_id ? html`<br>agent ${g.actor_name ?? g.actor_id} ${idText(g.actor_id)}` : ''}</td>
<td>${codeList(g.scopes)}<br><span class="muted">${g.resources.join(' ')}</span></td>
<td>${when(g.created_at)}<br><span class="muted">${when(g.expires_at)}</span></td>
${edit ? html`<td class="actions">${postButton({ action: `${base}/admin/grants/${g.id}/revoke`, csrf, label: 'Revoke', ariaLabel: `Revoke grant ${g.id} of ${g.user_email ?? g.user_id} to ${g.client_name}`, tone: 'danger' })}</td>` : ''}</tr>`,
)}</tbody></table></div>`
}
</section>
<section class="card" aria-labelledby="tokens-heading"><h2 id="tokens-heading">Live access tokens <span class="count">${model.tokens.length}</span></h2>
<p class="muted">Tokens issued lately that have not expired, from the audit trail (the server stores no token itself).</p>
${
  model.tokens.length === 0
    ? emptyState('No live access tokens.', 'Tokens appear here when they are issued and leave when they expire.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Token id</th><th scope="col">Grant type</th><th scope="col">Subject and client</th><th scope="col">Scope</th><th scope="col">Expires</th><th scope="col">Status</th>${edit ? html`<th scope="col">Actions</th>` : ''}</tr></thead><tbody>
${model.tokens.map(
  (t) => html`<tr><td>${idText(t.jti)}</td><td><code>${t.grant_type.replace(/^urn:[^ ]*:/, '')}</code></td>
<td>${t.subject ? model.names.get(t.subject) ?? t.subject : '—'}<br><span class="muted">${t.client_id ? model.names.get(t.client_id) ?? t.client_id : ''}</span></td>
<td>${t.scope ? codeList(t.scope.split(' ')) : html`<span class="muted">none</span>`}</td><td>${when(t.expires_at)}</td><td>${statusBadge(t.revoked ? 'revoked' : 'active')}</td>
${edit ? html`<td class="actions">${t.revoked ? '' : postButton({ action: `${base}/admin/tokens/${t.jti}/revoke`, csrf, label: 'Revoke chain', ariaLabel: `Revoke token ${t.jti} and every token exchanged from it`, tone: 'danger' })}</td>` : ''}</tr>`,
)}</tbody></table></div>`
}
</section>`;
  return consolePage(frame, 'Grants and tokens', body);
}
