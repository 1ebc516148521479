import { html, type SafeHtml } from './html.ts';

/** An agent that may act for the signed-in user, with everything it may do on their behalf. */
export interface ActingAgent {
  id: string;
  name: string;
  status: string;
  /** The applications it acts through (by name); empty when it asked the user directly (CIBA). */
  via: string[];
  /** Scopes per resource ('' for the OpenID scopes), from remembered consents and active grants together. */
  access: { resource: string; scopes: string[] }[];
  /** Active grants in which it acts. */
  grants: number;
  since: number;
}

/** A request made on the user's behalf (an approval request naming them), and whether they may decide it here. */
export interface RequestAboutYou {
  id: string;
  status: string;
  client_id: string;
  scopes: string[];
  resources: string[];
  justification: string | null;
  risk: string;
  created_at: number;
  expires_at: number;
  decided_by: string | null;
  reason: string | null;
  user_may_decide: boolean;
  decided_elsewhere_reason: string | null;
  /** A per-action request (RFC 9396): the single tool call it allows. */
  authorization_details?: { type: string; tool?: string }[] | null | undefined;
}

/** " — a single call of run_command" for a per-action request: the person sees which action, not just the scope. */
const singleCall = (r: RequestAboutYou) => (r.authorization_details ?? []).map((d) => html`, a single call of <code>${d.tool ?? d.type}</code>`);

const day = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ');

/** "Agents acting for you": each agent, what it may do, and one button that ends all of it. */
export function actingAgentsSection(base: string, csrf: string, agents: ActingAgent[]): SafeHtml {
  return html`<section class="card" aria-labelledby="agents">
<h2 id="agents">Agents acting for you</h2>
<p class="muted">AI agents you allowed to act on your behalf, directly or through an application, and what each may do. Revoking an agent ends all of it: its next call fails.</p>
${
  agents.length === 0
    ? html`<p class="muted">No agent acts for you.</p>`
    : html`<table><thead><tr><th scope="col">Agent</th><th scope="col">May do on your behalf</th><th scope="col"><span class="skip">Action</span></th></tr></thead><tbody>
${agents.map(
  (a) => html`<tr><td><strong>${a.name}</strong>${a.status !== 'active' ? html` <span class="badge tone-neutral">${a.status}</span>` : ''}<br><code>${a.id}</code>${a.via.length ? html`<br><span class="muted">through ${a.via.join(', ')}</span>` : ''}</td>
<td>${a.access.map((x) => html`${x.resource ? html`<code>${x.resource}</code>: ` : ''}${x.scopes.join(' ')}<br>`)}<span class="muted">${a.grants} active grant${a.grants === 1 ? '' : 's'} · since ${day(a.since)}</span></td>
<td><form method="post" action="${base}/account/agents/revoke"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="agent_id" value="${a.id}">
<button type="submit" class="danger" aria-label="Revoke agent ${a.name}">Revoke agent</button></form></td></tr>`,
)}</tbody></table>`
}
</section>`;
}

/** "Requests about you": pending approval requests naming the user (decidable here where the policy allows), then recent outcomes. */
export function requestsAboutYouSection(base: string, csrf: string, requests: RequestAboutYou[], names: ReadonlyMap<string, string>): SafeHtml {
  const pending = requests.filter((r) => r.status === 'pending');
  const past = requests.filter((r) => r.status !== 'pending').slice(0, 10);
  return html`<section class="card" aria-labelledby="requests">
<h2 id="requests">Requests about you</h2>
${
  pending.length === 0
    ? html`<p class="muted">No request is waiting for a decision.</p>`
    : html`<ul class="requests">${pending.map(
        (r) => html`<li class="risk-${r.risk}"><p><strong>${names.get(r.client_id) ?? r.client_id}</strong> asks for <code>${r.scopes.join(' ')}</code>${singleCall(r)} on your behalf<span class="badge">${r.risk} risk</span></p>
${r.justification ? html`<p>“${r.justification}”</p>` : ''}
<p class="muted">${r.resources.join(' ')} · expires ${day(r.expires_at)} UTC</p>
${
  r.user_may_decide
    ? html`<form method="post" action="${base}/account/approvals/${r.id}/decision"><input type="hidden" name="csrf" value="${csrf}">
<label for="why-${r.id}">Reason <span class="muted">(optional)</span></label><input type="text" id="why-${r.id}" name="reason" maxlength="1000">
<button type="submit" name="decision" value="approve" aria-label="Approve the request of ${names.get(r.client_id) ?? r.client_id}">Approve</button>
<button type="submit" name="decision" value="deny" class="danger" aria-label="Deny the request of ${names.get(r.client_id) ?? r.client_id}">Deny</button></form>`
    : html`<p class="info">Waiting for an approver: ${r.decided_elsewhere_reason ?? ''}.</p>`
}</li>`,
      )}</ul>`
}
${
  past.length
    ? html`<h3>Recent</h3><ul>${past.map((r) => html`<li>${names.get(r.client_id) ?? r.client_id}: <code>${r.scopes.join(' ')}</code>${singleCall(r)} — <strong>${r.status}</strong>${r.reason ? html` (${r.reason})` : ''} <span class="muted">${day(r.created_at)}</span></li>`)}</ul>`
    : ''
}
</section>`;
}
