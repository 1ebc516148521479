import type { AuditEventRow, ChainReportView } from './view-models.ts';
import { html } from '../html.ts';
import { badge, type ConsoleFrame, csrfField, emptyState, pageHeading } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface AuditPageModel {
  rows: AuditEventRow[];
  filter: Record<string, string>;
  /** Event names to offer in the filter (those seen lately and the common ones). */
  events: string[];
  /** The chain check, when asked for. */
  chain?: ChainReportView | undefined;
  /** Names of users and clients by id. */
  names: ReadonlyMap<string, string>;
}

const TONE_BY_OUTCOME = (event: string) =>
  /refused|denied|revoked|failed|disabled|deleted/.test(event) ? 'danger' : /approved|issued|succeeded|created|enabled/.test(event) ? 'ok' : 'neutral';

function detailText(detail: Record<string, unknown>): string {
  const text = JSON.stringify(detail);
  return text === '{}' ? '' : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function chainStatus(chain: ChainReportView) {
  return chain.ok
    ? html`<p class="notice" role="status">${badge('chain intact', 'ok')} ${chain.rowsChecked} rows checked up to #${chain.head.seq}${chain.anchor ? `, matching the anchored head #${chain.anchor.seq}` : ''}${chain.prunedThrough ? `; rows through #${chain.prunedThrough} were removed by retention` : ''}.</p>`
    : html`<p class="error" role="alert">${badge('chain broken', 'danger')} ${chain.problem?.message ?? 'the chain does not verify'} (row #${chain.problem?.seq ?? '?'}). Run <code>mandate audit verify</code> and see docs/security.md.</p>`;
}

/** The audit trail: filter by event type (a trailing * matches a prefix), principal, client and time; check the chain. */
export function auditPage(frame: ConsoleFrame, model: AuditPageModel): string {
  const { base } = frame;
  const f = model.filter;
  const who = (id: string | null) => (id === null ? '' : model.names.has(id) ? html`${model.names.get(id)}<br><span class="id">${id}</span>` : html`<span class="id">${id}</span>`);
  const input = (name: string, label: string, hint?: string, list?: string) =>
    html`<div class="field"><label for="audit-${name}">${label}</label><input id="audit-${name}" name="${name}" type="text" value="${f[name] ?? ''}"${list ? html` list="${list}"` : ''}${hint ? html` aria-describedby="audit-${name}-hint"` : ''}>${hint ? html`<span class="hint" id="audit-${name}-hint">${hint}</span>` : ''}</div>`;
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Audit log', 'Every issuance, refusal, decision and change, in a chain protected by a keyed MAC. Tool calls reported by MCP servers appear here too.')}</section>
<section class="card" aria-labelledby="filter-heading"><h2 id="filter-heading">Search</h2>
<form method="get" action="${base}/admin/audit" class="grid-form filters" role="search">
${input('event', 'Event type', 'Exact, or a prefix ending in * (token.*)', 'audit-events')}
<datalist id="audit-events">${model.events.map((e) => html`<option value="${e}"></option>`)}</datalist>
${input('principal', 'Principal', 'Actor, subject or client id')}
${input('client_id', 'Client id')}
${input('since', 'Since', 'ISO 8601 time, e.g. 2026-11-30T08:00:00Z')}
${input('until', 'Until')}
<div class="form-actions"><button type="submit">Search</button> <a class="button secondary" href="${base}/admin/audit">Clear</a></div>
</form>
${
  frame.canChange
    ? html`<form method="post" action="${base}/admin/audit/verify" class="inline">${csrfField(frame.csrf)}${Object.entries(f).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="secondary">Verify the chain</button></form>`
    : ''
}
${model.chain ? chainStatus(model.chain) : ''}
</section>
<section class="card" aria-labelledby="rows-heading"><h2 id="rows-heading">Events <span class="count">${model.rows.length}</span></h2>
${
  model.rows.length === 0
    ? emptyState('No events match.', 'Change the filter, or clear it to see the latest events.')
    : html`<div class="table-wrap"><table class="audit"><thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Subject</th><th scope="col">Client</th><th scope="col">Detail</th></tr></thead><tbody>
${model.rows.map(
  (r) => html`<tr><td>${r.seq}</td><td class="nowrap">${r.time.slice(0, 10)}<br>${r.time.slice(11, 19)}</td><td>${badge(r.event, TONE_BY_OUTCOME(r.event))}</td>
<td>${who(r.actor)}</td><td>${who(r.subject)}</td><td>${who(r.client_id)}</td><td class="detail"><code>${detailText(r.detail)}</code></td></tr>`,
)}</tbody></table></div>`
}
</section>`;
  return consolePage(frame, 'Audit log', body);
}
