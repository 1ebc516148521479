import { html, type SafeHtml } from '../html.ts';

/** Pieces every console page is built from: badges, empty states, forms with their CSRF field, times. */

/** What every console page knows: who is signed in, in which role, on which section, and the outcome of a POST. */
export interface ConsoleFrame {
  base: string;
  csrf: string;
  user: { id: string; email: string | null; name: string | null };
  role: 'admin' | 'approver' | 'viewer';
  /** The section shown (its navigation link is marked current). */
  section: string;
  /** The sections this role may see, in navigation order (policy/console-role.ts decides). */
  sections: readonly string[];
  /** Whether this role may change anything in this section: forms and buttons are shown only then. */
  canChange: boolean;
  /** A success message (role=status) or a refusal (role=alert) to show above the content. */
  notice?: string | undefined;
  error?: string | undefined;
}

type Tone = 'ok' | 'warn' | 'danger' | 'neutral' | 'info';

export const badge = (text: string, tone: Tone): SafeHtml => html`<span class="badge tone-${tone}">${text}</span>`;

const STATUS_TONES: Record<string, Tone> = {
  active: 'ok',
  approved: 'ok',
  valid: 'ok',
  signing: 'ok',
  pending: 'warn',
  published: 'info',
  disabled: 'neutral',
  expired: 'neutral',
  retired: 'neutral',
  denied: 'danger',
  revoked: 'danger',
  broken: 'danger',
};
export const statusBadge = (status: string): SafeHtml => badge(status, STATUS_TONES[status] ?? 'neutral');

const RISK_TONES: Record<string, Tone> = { low: 'ok', medium: 'info', high: 'warn', critical: 'danger' };
export const riskBadge = (risk: string): SafeHtml => badge(`${risk} risk`, RISK_TONES[risk] ?? 'neutral');

/** `2026-11-30 19:20 UTC` from epoch seconds, kept on one line. */
export function when(epochSeconds: number | null | undefined): SafeHtml {
  if (epochSeconds === null || epochSeconds === undefined) return html`—`;
  const iso = new Date(epochSeconds * 1000).toISOString();
  return html`<time class="nowrap" datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** An id under a name: small and quiet, breakable anywhere. */
export const idText = (id: string): SafeHtml => html`<span class="id">${id}</span>`;

export const csrfField = (csrf: string): SafeHtml => html`<input type="hidden" name="csrf" value="${csrf}">`;

export const emptyState = (title: string, text: string): SafeHtml => html`<div class="empty" role="note"><p><strong>${title}</strong></p><p class="muted">${text}</p></div>`;

/** The page heading and the POST's outcome. */
export function pageHeading(frame: ConsoleFrame, title: string, intro?: string): SafeHtml {
  return html`<h1 id="title">${title}</h1>
${intro ? html`<p class="muted lead">${intro}</p>` : ''}
${frame.notice ? html`<p class="notice" role="status">${frame.notice}</p>` : ''}
${frame.error ? html`<p class="error" role="alert">${frame.error}</p>` : ''}`;
}

export interface PostButtonOptions {
  action: string;
  csrf: string;
  label: string;
  /** The accessible name when the label alone is ambiguous in a table ("Disable" → "Disable agent Foo"). */
  ariaLabel?: string;
  tone?: 'primary' | 'secondary' | 'danger';
  fields?: Record<string, string>;
}

/** A one-button form; destructive actions post to a route that answers with a confirmation page first. */
export function postButton(o: PostButtonOptions): SafeHtml {
  const cls = o.tone === 'danger' ? 'danger' : o.tone === 'secondary' ? 'secondary' : '';
  return html`<form method="post" action="${o.action}" class="inline">${csrfField(o.csrf)}${Object.entries(o.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="small ${cls}"${o.ariaLabel ? html` aria-label="${o.ariaLabel}"` : ''}>${o.label}</button></form>`;
}

export interface FieldOptions {
  name: string;
  label: string;
  value?: string | undefined;
  hint?: string;
  type?: 'text' | 'email' | 'password' | 'url' | 'number';
  required?: boolean;
  /** A multi-line field (one entry per line). */
  lines?: number;
  /** Prefix of the element id, so two forms on a page never share one. */
  form: string;
}

export function field(o: FieldOptions): SafeHtml {
  const id = `${o.form}-${o.name}`;
  const hint = o.hint ? html`<span class="hint" id="${id}-hint">${o.hint}</span>` : '';
  const described = o.hint ? html` aria-describedby="${id}-hint"` : '';
  const required = o.required ? html` required` : '';
  const control = o.lines
    ? html`<textarea id="${id}" name="${o.name}" rows="${o.lines}"${described}${required}>${o.value ?? ''}</textarea>`
    : html`<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${described}${required}>`;
  return html`<div class="field"><label for="${id}">${o.label}${o.required ? '' : html` <span class="muted">(optional)</span>`}</label>${control}${hint}</div>`;
}

export interface SelectOptions {
  name: string;
  label: string;
  options: { value: string; label: string }[];
  value?: string;
  form: string;
  hint?: string;
}

export function select(o: SelectOptions): SafeHtml {
  const id = `${o.form}-${o.name}`;
  return html`<div class="field"><label for="${id}">${o.label}</label><select id="${id}" name="${o.name}"${o.hint ? html` aria-describedby="${id}-hint"` : ''}>${o.options.map(
    (opt) => html`<option value="${opt.value}"${opt.value === o.value ? html` selected` : ''}>${opt.label}</option>`,
  )}</select>${o.hint ? html`<span class="hint" id="${id}-hint">${o.hint}</span>` : ''}</div>`;
}

export const codeList = (items: readonly string[], empty = 'none'): SafeHtml =>
  items.length === 0 ? html`<span class="muted">${empty}</span>` : html`${items.map((i) => html`<code>${i}</code> `)}`;

/** A secret shown once, with what to do with it. */
export function secretOnce(label: string, secret: string, what: string): SafeHtml {
  return html`<div class="secret" role="status" aria-labelledby="secret-label">
<p id="secret-label"><strong>${label}</strong></p>
<p><code class="secret-value" id="secret-value">${secret}</code></p>
<p class="warning">${what} It is shown only now: Mandate keeps only its hash and cannot show it again.</p>
</div>`;
}
