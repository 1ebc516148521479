import type { ScopeRisk } from '../store/store.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { lookAlikeWarning, type LookAlikeView } from './look-alike-warning.ts';

export interface ConsentScope {
  name: string;
  description: string;
  risk: ScopeRisk;
  /** The resource that defines it, or null for OpenID scopes. */
  resource: string | null;
}

export interface ConsentPageModel {
  base: string;
  csrf: string;
  userEmail: string;
  client: {
    id: string;
    name: string;
    redirectHost: string;
    isPublic: boolean;
    /** The client registered itself (RFC 7591, or a metadata document on `documentHost`): nobody vouched for its name. */
    selfRegistered: {
      source: 'dynamic' | 'metadata_document';
      documentHost: string | null;
      /** Its name looks like a name the operator registered, or mixes scripts (policy/look-alike-names.ts). */
      lookAlike: LookAlikeView | null;
    } | null;
  };
  /** The agent named by `requested_actor` (draft-oauth-ai-agents-on-behalf-of-user-02 §4: consent names it). */
  agent: { id: string; name: string; owner: string | null; description: string | null } | null;
  /** The scopes this request asks the user for. */
  scopes: ConsentScope[];
  /** Scopes the user granted this client before for the same resources: kept, not asked again (incremental authorization). */
  alreadyGranted: ConsentScope[];
  resources: string[];
  offlineAccess: boolean;
  /**
   * The user allowed this before, but the client cannot prove who it is (a public client, RFC 8252 §8.6): the page
   * asks them to confirm that they started this request.
   */
  reconfirm: boolean;
  /** A scope policy also asks an approver (issue 12 item 2): why, shown before the user answers; null when not. */
  approvalNeeded: string | null;
  /**
   * RFC 9396: the one tool call this request asks to make (an `mcp_tool` detail of a pushed request): the token
   * approves that call only, once, within minutes. Absent otherwise.
   */
  action?: { tool: string; argumentsSha256: string; resource: string };
  /** The id under which the server keeps the authorization request; the form posts back only this. */
  requestId: string;
}

/** A redirect to this device (MCP-AS-05: warn when a self-registered client's result stays on localhost). */
const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

const riskLabel: Record<ScopeRisk, string> = { low: 'Low risk', medium: 'Medium risk', high: 'High risk', critical: 'Critical risk' };

const scopeItem = (s: ConsentScope) => html`<li class="risk-${s.risk}"><strong>${s.description}</strong><span class="badge">${riskLabel[s.risk]}</span><br>
<span class="muted"><code>${s.name}</code>${s.resource ? html` on ${s.resource}` : ''}</span></li>`;

/**
 * The consent page names the client, the agent that will act (Asgardeo #28110: the user must see who acts), each
 * scope with its description and risk, and the resources; high-risk scopes are highlighted.
 */
export function consentPage(model: ConsentPageModel): string {
  const { base, agent, client } = model;
  const highRisk = model.scopes.some((s) => s.risk === 'high' || s.risk === 'critical');
  return page({
    title: 'Authorize access',
    base,
    signedInAs: model.userEmail,
    csrf: model.csrf,
    body: html`<section class="card" aria-labelledby="title">
<h1 id="title">${agent ? html`Let <strong>${agent.name}</strong> act for you?` : html`Authorize <strong>${client.name}</strong>?`}</h1>
<p>Signed in as <strong>${model.userEmail}</strong>.</p>
${
  agent
    ? html`<div class="agent" role="group" aria-label="Agent">
  <p><strong>${agent.name}</strong> is an AI agent. It will act on your behalf through <strong>${client.name}</strong>.</p>
  <p class="muted">Agent id <code>${agent.id}</code>${agent.owner ? html` · owned by ${agent.owner}` : ''}</p>
  ${agent.description ? html`<p class="muted">${agent.description}</p>` : ''}
</div>`
    : ''
}
<p>Application <strong>${client.name}</strong> (<code>${client.id}</code>) will receive the result at <strong>${client.redirectHost}</strong>.</p>
${
  client.selfRegistered
    ? html`<p class="warning" role="note">This application registered itself${
        client.selfRegistered.documentHost ? html` with a metadata document published on <strong>${client.selfRegistered.documentHost}</strong>` : html` dynamically`
      }. Its name is <strong>unverified</strong>: nobody has checked who runs it. Approve only if you started this from an application you trust, and it will send the result to <strong>${client.redirectHost}</strong>.${
        LOOPBACK_HOST.test(client.redirectHost) ? html` That is a program on this device: any program running here could have started this request.` : ''
      }</p>${client.selfRegistered.lookAlike ? lookAlikeWarning(client.name, client.selfRegistered.lookAlike) : ''}`
    : ''
}
${
  model.reconfirm
    ? html`<p class="info" role="note">You allowed this before. This application runs on your device and cannot prove its identity, so confirm that you started this request just now; if you did not, deny it.</p>`
    : ''
}
${
  model.action
    ? html`<div class="action" role="group" aria-label="Tool call">
  <h2>One tool call</h2>
  <p>It asks to call the tool <strong><code>${model.action.tool}</code></strong> on <strong>${model.action.resource}</strong>, once, with the arguments whose SHA-256 is <code>${model.action.argumentsSha256}</code>. The permission ends after that call, or within minutes.</p>
</div>`
    : ''
}
<h2>${agent ? 'The agent' : 'It'} will ${model.alreadyGranted.length > 0 ? 'also ' : ''}be allowed to:</h2>
${model.scopes.length > 0 ? html`<ul class="scopes">${model.scopes.map(scopeItem)}</ul>` : html`<p>Nothing new: it asks again for what you allowed before.</p>`}
${
  model.alreadyGranted.length > 0
    ? html`<h2>Already allowed (kept):</h2>
<ul class="scopes granted">${model.alreadyGranted.map(scopeItem)}</ul>`
    : ''
}
${highRisk ? html`<p class="error" role="note">This request includes high-risk permissions. Approve only if you trust ${agent ? agent.name : client.name}.</p>` : ''}
${
  model.approvalNeeded
    ? html`<p class="warning" role="note">After you approve, an approver must approve this request too (${model.approvalNeeded}). You will wait on the next page until they decide.</p>`
    : ''
}
${model.offlineAccess ? html`<p>Access continues after you close this page, until you revoke it from your account.</p>` : ''}
<form method="post" action="${base}/authorize/consent">
  <input type="hidden" name="csrf" value="${model.csrf}">
  <input type="hidden" name="request" value="${model.requestId}">
  ${model.action ? '' : html`<p><input type="checkbox" id="remember" name="remember" value="1" checked> <label for="remember" class="inline-label">Remember this decision</label></p>`}
  <button type="submit" name="decision" value="approve">Approve</button>
  <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
</section>`,
  });
}
