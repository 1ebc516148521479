import type { Entry } from './transcript.ts';

/** The chat's HTML, rendered on the server: the page, each transcript entry (also sent over the event stream), the callback page. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text with line breaks kept (the stylesheet sets `white-space: pre-wrap`). */
const text = (value: string) => `<p class="text">${escapeHtml(value)}</p>`;

const APPROVAL_HEADLINES = {
  waiting: 'Waiting for approval',
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Nobody decided in time',
  refused: 'Refused',
} as const;

export function renderEntry(entry: Entry): string {
  switch (entry.kind) {
    case 'user':
      return `<li id="entry-${entry.id}" class="entry from-user"><span class="who">You</span>${text(entry.text)}</li>`;
    case 'agent':
      return `<li id="entry-${entry.id}" class="entry from-agent"><span class="who">Agent</span>${text(entry.text)}</li>`;
    case 'tool':
      return (
        `<li id="entry-${entry.id}" class="entry tool-call ${entry.ok ? 'ok' : 'failed'}"><span class="who">${entry.tool === 'userinfo' ? 'Userinfo (authorization server)' : 'Tool call'}</span>` +
        `<p><code>${escapeHtml(entry.tool)}</code> <code>${escapeHtml(JSON.stringify(entry.args))}</code> ${entry.ok ? '✓' : '✗'}</p>` +
        `<details><summary>Result</summary><pre>${escapeHtml(entry.text)}</pre></details></li>`
      );
    case 'sign_in': {
      const body = entry.done
        ? `<p><strong>Signed in</strong> as ${escapeHtml(entry.who ?? '')}. The agent now acts on your behalf.</p>`
        : `<p><strong>Sign in needed.</strong> The agent acts on your behalf, so first sign in at Mandate and approve it.</p>` +
          (entry.error ? `<p class="error" role="alert">The sign-in did not work: ${escapeHtml(entry.error)}</p>` : '') +
          `<p><a class="button" href="/login" target="_blank" data-popup>Sign in and approve the agent</a></p>`;
      const who = entry.done ? ` data-who="${escapeHtml(entry.who ?? '')}"` : '';
      return `<li id="entry-${entry.id}" class="entry notice sign-in ${entry.done ? 'done' : 'open'}" role="status"${who}>${body}</li>`;
    }
    case 'approval': {
      const scopes = entry.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ');
      const what = `<code>${escapeHtml(entry.tool)}</code> needs ${scopes}, which your sign-in did not grant.`;
      const detail =
        entry.status === 'waiting'
          ? `${what} An approval request waits for an approver (or for you, on your Mandate account page, where the policy allows). Request: <q class="binding">${escapeHtml(entry.binding)}</q>. The agent continues as soon as it is approved.`
          : entry.status === 'approved'
            ? `${what} Request <q class="binding">${escapeHtml(entry.binding)}</q> was approved; the agent went on.`
            : `${what} Request <q class="binding">${escapeHtml(entry.binding)}</q>: ${escapeHtml(entry.reason ?? '')}`;
      return (
        `<li id="entry-${entry.id}" class="entry notice approval ${entry.status}" role="status" data-status="${entry.status}">` +
        `<p><strong>${APPROVAL_HEADLINES[entry.status]}.</strong> ${detail}</p></li>`
      );
    }
  }
}

const HEAD = (title: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/static/chat.css">`;

export interface ChatPageModel {
  csrf: string;
  entries: readonly Entry[];
  signedInAs: string | undefined;
  agentId: string;
  mode: string;
}

export function renderChatPage(model: ChatPageModel): string {
  const last = model.entries.at(-1)?.id ?? 0;
  const status = model.signedInAs ? `Signed in as ${escapeHtml(model.signedInAs)}` : 'Not signed in yet: the agent asks when it needs you';
  return (
    `${HEAD('Chat · Mandate demo')}<script src="/static/chat.js" defer></script></head><body>` +
    `<header><p class="brand">Mandate demo</p><h1>Chat with the agent</h1>` +
    `<p class="meta">Agent <code>${escapeHtml(model.agentId)}</code> · ${escapeHtml(model.mode)} · <span id="signed-in">${status}</span></p></header>` +
    `<main><ol id="transcript" aria-label="Conversation" aria-live="polite" data-last="${last}">${model.entries.map(renderEntry).join('')}</ol>` +
    `<form id="composer" method="post" action="/messages"><input type="hidden" name="csrf" value="${escapeHtml(model.csrf)}">` +
    `<label for="message">Message</label><input id="message" name="text" required maxlength="2000" autocomplete="off" placeholder="Ask the agent…">` +
    `<button type="submit">Send</button></form>` +
    `<p class="hint">Try “who am I logged in as?”, “add 2 and 3”, “list files”, “read hello.txt”, “run date -u”.</p></main></body></html>`
  );
}

export function renderCallbackPage(result: { ok: true; who: string } | { ok: false; error: string }): string {
  const body = result.ok
    ? `<h1>Signed in</h1><p role="status">You are signed in as ${escapeHtml(result.who)} and the agent may act for you. The chat goes on in its own window.</p><p><button type="button" id="close-window" hidden>Close this window</button></p>`
    : `<h1>Sign-in failed</h1><p role="alert">${escapeHtml(result.error)}</p>`;
  return `${HEAD(result.ok ? 'Signed in · Mandate demo chat' : 'Sign-in failed · Mandate demo chat')}<script src="/static/callback.js" defer></script></head><body><main class="narrow">${body}<p><a href="/">Back to the chat</a></p></main></body></html>`;
}
