import type { ApprovalRow } from './view-models.ts';
import { html, type SafeHtml } from '../html.ts';
import { codeList, emptyState, idText, pageHeading, riskBadge, statusBadge, type ConsoleFrame, when } from './components.ts';
import { consolePage } from './console-layout.ts';

/** Names to show for ids: clients and agents by client id, users by user id. */
export interface ApprovalLabels {
  clients: ReadonlyMap<string, string>;
  users: ReadonlyMap<string, string>;
}

export interface ApprovalsPageModel {
  pending: ApprovalRow[];
  decided: ApprovalRow[];
  labels: ApprovalLabels;
  /** Set when a critical request needs a fresh sign-in: where to sign in again. */
  reauthUrl?: string | undefined;
  /** `users.passkeyRegistrationMaxAuthAgeSeconds`: how fresh a sign-in a critical request needs. */
  freshSeconds: number;
}

const named = (map: ReadonlyMap<string, string>, id: string | null) =>
  id === null ? html`<span class="muted">none</span>` : map.has(id) ? html`${map.get(id)}<br>${idText(id)}` : idText(id);

/** What a per-action request would allow: one call of a tool with these arguments (by their RFC 8785 SHA-256), once. */
function actions(a: ApprovalRow): SafeHtml | '' {
  const details = a.authorization_details ?? [];
  if (details.length === 0) return '';
  return html`${details.map(
    (d) =>
      html`<p class="action-detail">Single call of <code>${d.tool ?? d.type}</code>${d.arguments_sha256 ? html`<br><span class="muted">arguments SHA-256</span> <code class="id" title="${d.arguments_sha256}">${d.arguments_sha256.slice(0, 16)}…</code>` : ''}</p>`,
  )}`;
}

/** One pending request as a table row; the live stream sends this same markup for rows that appear later. */
export function approvalRow(frame: ConsoleFrame, a: ApprovalRow, labels: ApprovalLabels, freshSeconds: number): SafeHtml {
  const canDecide = frame.canChange;
  const chain = a.chain.length > 1 ? html`<br><span class="muted">through ${a.chain.slice(1).map((c) => labels.clients.get(c) ?? c).join(' → ')}</span>` : '';
  const who = labels.clients.get(a.client_id) ?? a.client_id;
  return html`<tr data-approval-id="${a.id}" class="risk-row-${a.risk}">
<td><strong>${who}</strong> ${idText(a.client_id)}${chain}<br><span class="muted">for</span> ${a.user_id === null ? html`<span class="muted">itself (no user)</span>` : html`${labels.users.get(a.user_id) ?? a.user_id}`}
${a.justification ? html`<br><q>${a.justification}</q>` : ''}</td>
<td>${codeList(a.scopes)} ${riskBadge(a.risk)}<br><span class="muted">${a.resources.join(' ')}</span>${actions(a)}${a.risk === 'critical' ? html`<br><span class="muted">needs a sign-in within ${Math.round(freshSeconds / 60)} min</span>` : ''}</td>
<td>${when(a.created_at)}<br><span class="muted">expires ${when(a.expires_at)}</span></td>
<td class="decide">${
    canDecide
      ? html`<form method="post" action="${frame.base}/admin/approvals/${a.id}/decision" class="decision">
<input type="hidden" name="csrf" value="${frame.csrf}">
<label for="reason-${a.id}" class="small-label">Reason</label>
<input type="text" id="reason-${a.id}" name="reason" maxlength="1000" autocomplete="off">
<button type="submit" name="decision" value="approve" class="small" aria-label="Approve request ${a.id} from ${who}">Approve</button>
<button type="submit" name="decision" value="deny" class="small danger" aria-label="Deny request ${a.id} from ${who}">Deny</button>
</form>`
      : html`<span class="muted">Read-only</span>`
  }</td>
</tr>`;
}

export function approvalsPage(frame: ConsoleFrame, model: ApprovalsPageModel): string {
  const { base } = frame;
  const body = html`<section aria-labelledby="title">
${pageHeading(frame, 'Approval requests', 'Requests a scope policy sent to approvers, and CIBA requests waiting for a decision. New requests appear here as they arrive.')}
${model.reauthUrl ? html`<p><a class="button" href="${model.reauthUrl}">Sign in again to decide critical requests</a></p>` : ''}
<p id="approvals-live" class="live" role="status" aria-live="polite" data-events="${base}/admin/approvals/events"></p>
</section>
<section class="card" aria-labelledby="pending-heading">
<h2 id="pending-heading">Pending <span class="count" id="pending-count">${model.pending.length}</span></h2>
<div id="pending-empty"${model.pending.length ? html` hidden` : ''}>${emptyState('Nothing is waiting for a decision.', 'When an agent asks for a scope that needs approval, its request appears here without reloading the page.')}</div>
<div class="table-wrap"${model.pending.length ? '' : html` hidden`} id="pending-table-wrap">
<table id="pending-approvals"><caption class="skip">Pending approval requests, newest first</caption>
<thead><tr><th scope="col">Request</th><th scope="col">Scopes, risk and resources</th><th scope="col">Asked / expires</th><th scope="col">Decision</th></tr></thead>
<tbody>${model.pending.map((a) => approvalRow(frame, a, model.labels, model.freshSeconds))}</tbody></table></div>
</section>
<section class="card" aria-labelledby="decided-heading">
<h2 id="decided-heading">Recently decided</h2>
${
  model.decided.length === 0
    ? emptyState('No decisions yet.', 'Approved, denied and expired requests are listed here.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Status</th><th scope="col">Who asked</th><th scope="col">On behalf of</th><th scope="col">Scopes</th><th scope="col">Decided by</th><th scope="col">Reason</th></tr></thead><tbody>
${model.decided.map(
  (a) => html`<tr><td>${statusBadge(a.status)}<br><span class="muted">${when(a.decided_at ?? a.expires_at)}</span></td>
<td>${model.labels.clients.get(a.client_id) ?? a.client_id}</td><td>${named(model.labels.users, a.user_id)}</td><td>${codeList(a.scopes)}</td>
<td>${a.decided_by ? named(model.labels.users, a.decided_by) : html`<span class="muted">—</span>`}</td><td>${a.reason ?? html`<span class="muted">—</span>`}</td></tr>`,
)}</tbody></table></div>`
}
</section>`;
  return consolePage(frame, 'Approvals', body, ['console.js']);
}
