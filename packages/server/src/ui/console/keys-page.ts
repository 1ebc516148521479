import { html } from '../html.ts';
import { badge, type ConsoleFrame, emptyState, pageHeading, postButton, statusBadge, when } from './components.ts';
import { consolePage } from './console-layout.ts';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  status: string;
  signing: boolean;
  activates_at: number;
  published: boolean;
  publish_until: number | null;
}

/** The signing keys (no private material): which signs, which are published, and a rotation. */
export function keysPage(frame: ConsoleFrame, model: { keys: SigningKeyRow[]; publishAheadSeconds: number; algorithm: string }): string {
  const { base, csrf } = frame;
  const body = html`<section aria-labelledby="title">${pageHeading(frame, 'Signing keys', 'Tokens are signed with the active key; older keys stay published in the JWKS until every token they signed has expired.')}</section>
<section class="card" aria-labelledby="keys-heading"><h2 id="keys-heading">Keys <span class="count">${model.keys.length}</span></h2>
${
  model.keys.length === 0
    ? emptyState('No signing keys.', 'A key is generated at the first start.')
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Key id</th><th scope="col">Algorithm</th><th scope="col">Status</th><th scope="col">Signs from</th><th scope="col">Published until</th></tr></thead><tbody>
${model.keys.map(
  (k) => html`<tr><td><code>${k.kid}</code></td><td><code>${k.alg}</code></td>
<td>${k.signing ? badge('signing', 'ok') : statusBadge(k.status)} ${k.published ? badge('in JWKS', 'info') : ''}</td>
<td>${when(k.activates_at)}</td><td>${k.publish_until ? when(k.publish_until) : html`<span class="muted">while active</span>`}</td></tr>`,
)}</tbody></table></div>`
}
</section>
${
  frame.canChange
    ? html`<section class="card" aria-labelledby="rotate-heading"><h2 id="rotate-heading">Rotate</h2>
<p>A new ${model.algorithm} key is published now and starts signing in ${model.publishAheadSeconds} seconds, so every resource server has fetched it first; the current key keeps verifying until its tokens expire.</p>
${postButton({ action: `${base}/admin/keys/rotate`, csrf, label: 'Rotate signing key', tone: 'danger' })}</section>`
    : ''
}`;
  return consolePage(frame, 'Signing keys', body);
}
