import type { PasskeyRecord, UserIdentityRecord, UserRecord } from '../store/store.ts';

/** What the user authorized one client (and agent) to do, across resources. */
export interface AuthorizedApp {
  clientId: string;
  clientName: string;
  actorId: string;
  actorName: string | null;
  /** Scopes per resource ('' for the OpenID scopes). */
  access: { resource: string; scopes: string[] }[];
  since: number;
}
import { html } from './html.ts';
import { page } from './layout.ts';

export interface AccountPageModel {
  base: string;
  csrf: string;
  user: UserRecord;
  consents: AuthorizedApp[];
  passkeys: PasskeyRecord[];
  identities: UserIdentityRecord[];
  notice?: string;
}

const day = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

/** The user's own page: remembered consents (each revocable), passkeys, linked upstream accounts. */
export function accountPage(model: AccountPageModel): string {
  const { base, csrf, user } = model;
  return page({
    title: 'Your account',
    base,
    signedInAs: user.email ?? user.id,
    csrf,
    scripts: ['passkey.js'],
    body: html`${model.notice ? html`<p class="info" role="status">${model.notice}</p>` : ''}
<section class="card" aria-labelledby="title">
<h1 id="title">Your account</h1>
<p>${user.name ?? ''} <code>${user.email ?? ''}</code> <span class="muted">id <code>${user.id}</code></span></p>
</section>
<section class="card" aria-labelledby="consents">
<h2 id="consents">Applications and agents you authorized</h2>
${
  model.consents.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><thead><tr><th scope="col">Application</th><th scope="col">Agent</th><th scope="col">Access</th><th scope="col"><span class="skip">Action</span></th></tr></thead><tbody>
${model.consents.map(
  (c) => html`<tr><td>${c.clientName}<br><code>${c.clientId}</code></td>
<td>${c.actorId ? html`${c.actorName ?? c.actorId}<br><code>${c.actorId}</code>` : html`<span class="muted">none</span>`}</td>
<td>${c.access.map((a) => html`${a.resource ? html`<code>${a.resource}</code>: ` : ''}${a.scopes.join(' ')}<br>`)}<span class="muted">since ${day(c.since)}</span></td>
<td><form method="post" action="${base}/account/consents/revoke"><input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="client_id" value="${c.clientId}"><input type="hidden" name="actor_id" value="${c.actorId}">
<button type="submit" class="danger" aria-label="Revoke ${c.clientName}${c.actorId ? ` and agent ${c.actorName ?? c.actorId}` : ''}">Revoke</button></form></td></tr>`,
)}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="passkeys">
<h2 id="passkeys">Passkeys</h2>
${model.passkeys.length === 0 ? html`<p class="muted">No passkeys yet.</p>` : html`<ul>${model.passkeys.map((p) => html`<li>${p.name} <span class="muted">added ${day(p.createdAt)}</span></li>`)}</ul>`}
<div id="passkey-register" hidden data-options="${base}/account/passkeys/options" data-verify="${base}/account/passkeys" data-csrf="${csrf}">
  <button type="button" id="passkey-register-button" class="secondary">Add a passkey</button>
  <p class="error" role="alert" id="passkey-register-error" hidden></p>
</div>
</section>
${
  model.identities.length
    ? html`<section class="card" aria-labelledby="linked"><h2 id="linked">Linked sign-in providers</h2><ul>${model.identities.map(
        (i) => html`<li>${i.providerId} <code>${i.issuer}</code>${i.email ? html` (${i.email})` : ''}</li>`,
      )}</ul></section>`
    : ''
}`,
  });
}
