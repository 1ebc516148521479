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
/** One active grant: what one authorization gave a client (and agent), alive until revoked or `until`. */
export interface ActiveGrant {
  id: string;
  clientId: string;
  clientName: string;
  actorId: string;
  actorName: string | null;
  resources: string[];
  scopes: string[];
  since: number;
  until: number;
}
import { html } from './html.ts';
import { page } from './layout.ts';
import { type ActingAgent, actingAgentsSection, type RequestAboutYou, requestsAboutYouSection } from './account-agents.ts';

export interface AccountPageModel {
  base: string;
  csrf: string;
  user: UserRecord;
  consents: AuthorizedApp[];
  grants: ActiveGrant[];
  passkeys: PasskeyRecord[];
  identities: UserIdentityRecord[];
  /** Agents acting for the user, and approval requests about them (self-service, issue 12 item 8). */
  agents: ActingAgent[];
  requests: RequestAboutYou[];
  /** Client names by id, for the requests. */
  clientNames: ReadonlyMap<string, string>;
  /** Set when the login is too old to add a passkey: the page links to a new login instead (SR-15). */
  passkeyReauthUrl?: string | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}

const day = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

/** The user's own page: remembered consents and active grants (each revocable), passkeys, linked upstream accounts. */
export function accountPage(model: AccountPageModel): string {
  const { base, csrf, user } = model;
  return page({
    title: 'Your account',
    base,
    signedInAs: user.email ?? user.id,
    csrf,
    scripts: ['passkey.js'],
    body: html`${model.notice ? html`<p class="info" role="status">${model.notice}</p>` : ''}${model.error ? html`<p class="error" role="alert">${model.error}</p>` : ''}
<section class="card" aria-labelledby="title">
<h1 id="title">Your account</h1>
<p>${user.name ?? ''} <code>${user.email ?? ''}</code> <span class="muted">id <code>${user.id}</code></span></p>
</section>
${requestsAboutYouSection(base, csrf, model.requests, model.clientNames)}
${actingAgentsSection(base, csrf, model.agents)}
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
<section class="card" aria-labelledby="grants">
<h2 id="grants">Active access</h2>
<p class="muted">Each time you approved a request, remembered or not, the application got access that lasts until the date shown. Revoke it to end it now.</p>
${
  model.grants.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><thead><tr><th scope="col">Application</th><th scope="col">Agent</th><th scope="col">Access</th><th scope="col"><span class="skip">Action</span></th></tr></thead><tbody>
${model.grants.map(
  (g) => html`<tr><td>${g.clientName}<br><code>${g.clientId}</code></td>
<td>${g.actorId ? html`${g.actorName ?? g.actorId}<br><code>${g.actorId}</code>` : html`<span class="muted">none</span>`}</td>
<td>${g.resources.map((r) => html`<code>${r}</code><br>`)}${g.scopes.join(' ')}<br><span class="muted">since ${day(g.since)}, until ${day(g.until)}</span></td>
<td><form method="post" action="${base}/account/grants/revoke"><input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="grant_id" value="${g.id}">
<button type="submit" class="danger" aria-label="Revoke the access of ${g.clientName} from ${day(g.since)}">Revoke</button></form></td></tr>`,
)}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="passkeys">
<h2 id="passkeys">Passkeys</h2>
${
  model.passkeys.length === 0
    ? html`<p class="muted">No passkeys yet.</p>`
    : html`<ul>${model.passkeys.map(
        (p) => html`<li><form method="post" action="${base}/account/passkeys/remove" class="inline"><input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="credential_id" value="${p.credentialId}">${p.name} <span class="muted">added ${day(p.createdAt)}${p.lastUsedAt ? `, last used ${day(p.lastUsedAt)}` : ', never used'}</span>
<button type="submit" class="danger" aria-label="Remove passkey ${p.name} added ${day(p.createdAt)}">Remove</button></form></li>`,
      )}</ul>`
}
${
  model.passkeyReauthUrl
    ? html`<p>To add a passkey, <a href="${model.passkeyReauthUrl}">sign in again</a> first: adding one needs a recent sign-in.</p>`
    : html`<div id="passkey-register" hidden data-options="${base}/account/passkeys/options" data-verify="${base}/account/passkeys" data-csrf="${csrf}">
  <button type="button" id="passkey-register-button" class="secondary">Add a passkey</button>
  <p class="error" role="alert" id="passkey-register-error" hidden></p>
</div>`
}
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
