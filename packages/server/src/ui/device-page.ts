import type { ScopeRisk } from '../store/store.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { lookAlikeWarning, type LookAlikeView } from './look-alike-warning.ts';

/**
 * The RFC 8628 verification pages: enter the code shown on the device, then confirm what it asks for. The code is
 * never accepted from the link alone (§5.4: a link can be sent by someone else): the person sees it prefilled and
 * submits it, then compares it with their device on the confirmation page before approving.
 */

export interface DeviceEntryModel {
  base: string;
  csrf: string;
  userEmail: string;
  /** The code from `verification_uri_complete`, prefilled. */
  userCode: string;
  error?: string;
}

export interface DeviceConfirmModel {
  base: string;
  csrf: string;
  userEmail: string;
  userCode: string;
  client: { id: string; name: string; isPublic: boolean; selfRegistered: boolean; lookAlike?: LookAlikeView | null };
  scopes: { name: string; description: string; risk: ScopeRisk; resource: string | null }[];
  offlineAccess: boolean;
  expiresInSeconds: number;
}

const riskLabel: Record<ScopeRisk, string> = { low: 'Low risk', medium: 'Medium risk', high: 'High risk', critical: 'Critical risk' };

export function deviceEntryPage(model: DeviceEntryModel): string {
  const { base } = model;
  return page({
    title: 'Connect a device',
    base,
    signedInAs: model.userEmail,
    csrf: model.csrf,
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">Connect a device</h1>
<p>Enter the code shown by the device or program that asked you to sign in.</p>
${model.error ? html`<p class="error" role="alert" id="code-error">${model.error}</p>` : ''}
<form method="post" action="${base}/device">
  <input type="hidden" name="csrf" value="${model.csrf}">
  <label for="user_code">Code</label>
  <input id="user_code" name="user_code" value="${model.userCode}" type="text" inputmode="text" autocomplete="one-time-code" autocapitalize="characters"
    spellcheck="false" maxlength="20" required aria-describedby="code-help${model.error ? ' code-error' : ''}" autofocus>
  <p class="muted" id="code-help">Eight letters, for example <code>BCDF-GHJK</code>; upper or lower case, with or without the dash.</p>
  <button type="submit">Continue</button>
</form>
</section>`,
  });
}

export function deviceConfirmPage(model: DeviceConfirmModel): string {
  const { base, client } = model;
  const highRisk = model.scopes.some((s) => s.risk === 'high' || s.risk === 'critical');
  const minutes = Math.max(1, Math.round(model.expiresInSeconds / 60));
  return page({
    title: 'Authorize a device',
    base,
    signedInAs: model.userEmail,
    csrf: model.csrf,
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">Authorize <strong>${client.name}</strong> on your device?</h1>
<p>Signed in as <strong>${model.userEmail}</strong>.</p>
<p class="info" role="note">Check that your device shows the code <strong class="user-code" id="confirm-code">${model.userCode}</strong>. If it does not, or you did not start this, deny: someone may be trying to get access in your name.</p>
<p>Application <strong>${client.name}</strong> (<code>${client.id}</code>) asks to be allowed to:</p>
${client.selfRegistered ? html`<p class="warning" role="note">This application registered itself. Its name is <strong>unverified</strong>: nobody has checked who runs it.</p>` : ''}
${client.lookAlike ? lookAlikeWarning(client.name, client.lookAlike) : ''}
<ul class="scopes">${model.scopes.map(
      (s) => html`<li class="risk-${s.risk}"><strong>${s.description}</strong><span class="badge">${riskLabel[s.risk]}</span><br>
<span class="muted"><code>${s.name}</code>${s.resource ? html` on ${s.resource}` : ''}</span></li>`,
    )}</ul>
${highRisk ? html`<p class="error" role="note">This request includes high-risk permissions. Approve only if you trust ${client.name}.</p>` : ''}
${model.offlineAccess ? html`<p>Access continues after you close this page, until you revoke it from your account.</p>` : ''}
<p class="muted">This code expires in about ${minutes} minute${minutes === 1 ? '' : 's'}.</p>
<form method="post" action="${base}/device/decision">
  <input type="hidden" name="csrf" value="${model.csrf}">
  <input type="hidden" name="user_code" value="${model.userCode}">
  <button type="submit" name="decision" value="approve">Approve</button>
  <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
</section>`,
  });
}
