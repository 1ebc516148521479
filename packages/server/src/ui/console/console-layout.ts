import { html, type SafeHtml } from '../html.ts';
import { page } from '../layout.ts';
import type { ConsoleFrame } from './components.ts';

const LABELS: Record<string, string> = {
  dashboard: 'Dashboard',
  approvals: 'Approvals',
  agents: 'Agents',
  clients: 'OAuth clients',
  resources: 'Resources & policies',
  users: 'Users & roles',
  grants: 'Grants & tokens',
  keys: 'Signing keys',
  audit: 'Audit log',
};

export const sectionPath = (base: string, section: string): string => (section === 'dashboard' ? `${base}/admin` : `${base}/admin/${section}`);

const ROLE_LABELS = { admin: 'Admin', approver: 'Approver', viewer: 'Viewer (read-only)' } as const;

/** The console's shell: the page layout with the section navigation (only the sections the role may see). */
export function consolePage(frame: ConsoleFrame, title: string, body: SafeHtml, scripts: string[] = []): string {
  const { base } = frame;
  const aside = html`<nav class="side" aria-label="Console">
<p class="role">Signed in as <strong>${ROLE_LABELS[frame.role]}</strong></p>
<ul>${frame.sections.map(
    (s) => html`<li><a href="${sectionPath(base, s)}"${s === frame.section ? html` aria-current="page"` : ''}>${LABELS[s] ?? s}</a></li>`,
  )}</ul>
<p><a href="${base}/account">Your account</a></p>
</nav>`;
  return page({ title: `${title} · Console`, base, signedInAs: frame.user.email ?? frame.user.id, csrf: frame.csrf, aside, brandSuffix: 'Console', scripts, body });
}

/** The page a signed-in user without a console role (or without the role a section needs) gets, with a 403. */
export function consoleForbiddenPage(base: string, csrf: string, who: string, reason: string): string {
  return page({
    title: 'No access',
    base,
    signedInAs: who,
    csrf,
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">You do not have access to this</h1>
<p class="error" role="alert">${reason}</p>
<p>The console is for users an administrator made <strong>admin</strong>, <strong>approver</strong> or <strong>viewer</strong>. Ask one to give you a role, or go to <a href="${base}/account">your account</a>.</p>
</section>`,
  });
}

/** Asks before a destructive action: the same form again with `confirmed=yes`, or back. */
export function confirmPage(frame: ConsoleFrame, o: { title: string; message: string; action: string; fields: Record<string, string>; confirmLabel: string; cancelHref: string }): string {
  return consolePage(
    frame,
    o.title,
    html`<section class="card" aria-labelledby="title">
<h1 id="title">${o.title}</h1>
<p class="warning" role="note">${o.message}</p>
<form method="post" action="${o.action}">
<input type="hidden" name="csrf" value="${frame.csrf}">
${Object.entries(o.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<input type="hidden" name="confirmed" value="yes">
<button type="submit" class="danger">${o.confirmLabel}</button>
<a class="button secondary" href="${o.cancelHref}">Cancel</a>
</form>
</section>`,
  );
}
