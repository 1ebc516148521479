import type { AuditEventRow } from './view-models.ts';
import { html } from '../html.ts';
import { badge, type ConsoleFrame, emptyState, pageHeading } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface DashboardModel {
  pendingApprovals: number;
  agents: { active: number; total: number };
  clients: number;
  resources: number;
  users: number;
  activeGrants: number;
  signingKey: string | null;
  recent: AuditEventRow[];
  /** Names of users and clients by id, for the activity list. */
  names: ReadonlyMap<string, string>;
}

const tile = (href: string, label: string, value: string | number, note?: string, tone?: 'warn') =>
  html`<li class="tile${tone ? ` tile-${tone}` : ''}"><a href="${href}"><span class="tile-value${typeof value === 'string' ? ' long' : ''}">${value}</span><span class="tile-label">${label}</span>${note ? html`<span class="tile-note">${note}</span>` : ''}</a></li>`;

/** The console's first page: what needs attention (pending approvals) and the size of everything else. */
export function dashboardPage(frame: ConsoleFrame, m: DashboardModel): string {
  const { base } = frame;
  const who = (id: string | null) => (id === null ? '' : m.names.has(id) ? html`<strong>${m.names.get(id)}</strong>` : html`<code>${id}</code>`);
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Dashboard', 'This server at a glance.')}</section>
<section aria-labelledby="overview-heading"><h2 id="overview-heading" class="skip">Overview</h2>
<ul class="tiles">
${tile(`${base}/admin/approvals`, 'pending approvals', m.pendingApprovals, m.pendingApprovals ? 'waiting for a decision' : 'nothing waiting', m.pendingApprovals ? 'warn' : undefined)}
${tile(`${base}/admin/agents`, 'agents', m.agents.total, `${m.agents.active} active`)}
${tile(`${base}/admin/clients`, 'OAuth clients', m.clients)}
${tile(`${base}/admin/resources`, 'resources', m.resources)}
${tile(`${base}/admin/users`, 'users', m.users)}
${tile(`${base}/admin/grants`, 'active grants', m.activeGrants)}
${tile(`${base}/admin/keys`, 'signing key', m.signingKey ?? '—', 'active')}
</ul></section>
<section class="card" aria-labelledby="recent-heading"><h2 id="recent-heading">Recent activity</h2>
${
  m.recent.length === 0
    ? emptyState('Nothing has happened yet.', 'Issued tokens, decisions and changes appear here.')
    : html`<ul class="activity">${m.recent.map(
        (r) => html`<li><span class="muted">${r.time.slice(0, 19).replace('T', ' ')}</span> ${badge(r.event, 'neutral')} ${who(r.actor)}${r.subject && r.subject !== r.actor ? html` → ${who(r.subject)}` : ''}</li>`,
      )}</ul>
<p><a href="${base}/admin/audit">The whole audit log</a></p>`
}
</section>`;
  return consolePage(frame, 'Dashboard', body);
}
