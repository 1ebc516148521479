import { randomInt } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AgentAuthClient, PendingApproval, TokenResponse } from '@mandate/sdk/agent';
import { isMandateError } from '@mandate/sdk/errors';
import { type McpSession, openMcpSession, type ToolOutcome } from '../../agent/src/mcp-session.ts';
import type { Reporter } from '../../agent/src/reporter.ts';
import { describeOutcome } from '../../agent/src/step.ts';
import { sameSecret } from './same-secret.ts';
import { type ApprovalStatus, type Entry, Transcript } from './transcript.ts';

/**
 * One person's conversation with the agent. The agent acts for the person: they sign in and approve it once (an
 * on-behalf-of authorization through the chat's application, `requested_actor` = the agent), and every tool call
 * then carries their token (`sub` = the person, `act` = the agent). A call the MCP server refuses for a scope that
 * token lacks becomes a CIBA request for that scope (`login_hint` = the person): it waits in the approval queue,
 * the chat shows the notice, and the call is made again once someone approves it, or the denial is explained.
 */

/** What the chat's brain (rule-based or a model) may do during a turn. */
export interface TurnContext {
  /** The MCP server's tools. */
  tools(): Promise<Tool[]>;
  /** Calls a tool for the person, waiting for an approval when it needs one; shown in the transcript. */
  callTool(name: string, args: Record<string, unknown>): Promise<ChatToolOutcome>;
  /** The person's OpenID userinfo claims (`sub`, `email`, `name`). */
  userinfo(): Promise<Record<string, unknown>>;
  /** The agent's client id. */
  agentId: string;
}

/** Decides what to do with a message and words the answer. */
export interface ChatAgent {
  reply(text: string, context: TurnContext, memory: unknown[]): Promise<string>;
}

/** A tool call's outcome, or the approval it needed was not given (denied, expired, or refused by a policy). */
export type ChatToolOutcome = ToolOutcome | { ok: false; kind: 'not_approved'; reason: string };

export function describeChatOutcome(outcome: ChatToolOutcome): string {
  return outcome.kind === 'not_approved' ? `not approved: ${outcome.reason}` : describeOutcome(outcome);
}

export interface ConversationDeps {
  /** The agent, with the chat's application (`app`) and its redirect URI. */
  agent: AgentAuthClient;
  agentId: string;
  agentSecret: string;
  issuer: string;
  mcpUrl: string;
  /** Resource scopes the person is asked for at sign-in; `openid email profile offline_access` are added. */
  scope: string;
  brain: ChatAgent;
  log: (line: string) => void;
  fetch?: typeof fetch;
  /** Current time in milliseconds (the agent's clock), to tell when an approved token is spent. Default `Date.now`. */
  clock?: () => number;
}

interface SignedIn {
  key: string;
  subject: string;
  /** The e-mail address from the ID token, else the subject: for the approval's binding message. */
  who: string;
  scope: string[];
}

const quietReporter: Reporter = { event() {} };

export class Conversation {
  readonly transcript = new Transcript();
  readonly #deps: ConversationDeps;
  #signedIn: SignedIn | undefined;
  /** The `state` of the sign-in this conversation started, and the message that waits for it. */
  #pendingSignIn: { state: string; text: string | undefined } | undefined;
  /** The sign-in notices still open (one per message sent before signing in); all close when the person signs in. */
  #signInEntries: (Entry & { kind: 'sign_in' })[] = [];
  #delegated: McpSession | undefined;
  /** A token approved through CIBA for scopes the sign-in did not grant, and its session. */
  #approved: { session: McpSession; scopes: string[]; expiresAt: number | undefined } | undefined;
  #turns: Promise<void> = Promise.resolve();
  readonly #memory: unknown[] = [];

  constructor(deps: ConversationDeps) {
    this.#deps = deps;
  }

  get signedIn(): boolean {
    return this.#signedIn !== undefined;
  }

  /** Queues a message: turns run one at a time, in order. Resolves when this one is answered. */
  say(text: string): Promise<void> {
    return this.#enqueue(text, true);
  }

  #enqueue(text: string, show: boolean): Promise<void> {
    const turn = this.#turns.then(() => this.#turn(text, show));
    this.#turns = turn.catch(() => {});
    return turn;
  }

  /** The authorization URL of a new sign-in for this conversation (the page opens it in a popup). */
  async startSignIn(redirectUri: string): Promise<string> {
    const { url, state } = await this.#deps.agent.authorizationUrl({
      scope: `openid email profile offline_access ${this.#deps.scope}`,
      resource: this.#deps.mcpUrl,
      redirectUri,
    });
    this.#pendingSignIn = { state, text: this.#pendingSignIn?.text };
    return url;
  }

  /**
   * The browser came back from the authorization server. Only the sign-in this conversation started is accepted
   * (its `state`); the SDK checks `iss` and redeems the code with the agent's actor token.
   */
  async finishSignIn(callbackUrl: URL): Promise<{ ok: true; who: string } | { ok: false; error: string }> {
    const pending = this.#pendingSignIn;
    if (pending === undefined || !sameSecret(pending.state, callbackUrl.searchParams.get('state') ?? '')) return { ok: false, error: 'This sign-in was not started from this chat (or it was already used).' };
    this.#pendingSignIn = undefined;
    try {
      const tokens = await this.#deps.agent.exchangeCode(this.#deps.agent.handleCallback(callbackUrl));
      const who = String(tokens.idTokenClaims?.['email'] ?? tokens.subject);
      this.#signedIn = { key: tokens.key, subject: tokens.subject!, who, scope: tokens.scope };
      await this.#dropSessions();
      for (const entry of this.#signInEntries.splice(0)) this.transcript.update(entry, { done: true, who });
      // The message that waited for the sign-in is answered now (it is in the transcript already).
      if (pending.text !== undefined) void this.#enqueue(pending.text, false).catch(() => {});
      return { ok: true, who };
    } catch (err) {
      // The message still waits: the person may try the sign-in again.
      this.#pendingSignIn = { state: '', text: pending.text };
      const error = isMandateError(err) && 'errorDescription' in err && err.errorDescription ? String(err.errorDescription) : (err as Error).message;
      const last = this.#signInEntries.at(-1);
      if (last) this.transcript.update(last, { error });
      return { ok: false, error };
    }
  }

  async close(): Promise<void> {
    await this.#dropSessions();
  }

  async #turn(text: string, show: boolean): Promise<void> {
    if (show) this.transcript.add({ kind: 'user', text });
    if (this.#signedIn === undefined) return this.#askToSignIn(text);
    let answer: string;
    try {
      answer = await this.#deps.brain.reply(text, this.#context(), this.#memory);
    } catch (err) {
      answer = `Sorry, that failed: ${(err as Error).message}`;
      this.#deps.log(`turn failed: ${(err as Error).stack ?? String(err)}`);
    }
    // The authorization went away during the turn (revoked, expired): the person signs in again, then it is retried.
    if (this.#signedIn === undefined) return this.#askToSignIn(text);
    this.transcript.add({ kind: 'agent', text: answer });
  }

  #askToSignIn(text: string): void {
    this.#pendingSignIn = { state: this.#pendingSignIn?.state ?? '', text };
    this.#signInEntries.push(this.transcript.add({ kind: 'sign_in' as const, done: false }));
  }

  #context(): TurnContext {
    return {
      agentId: this.#deps.agentId,
      tools: async () => (await this.#delegatedSession()).tools(),
      callTool: (name, args) => this.#callTool(name, args),
      userinfo: () => this.#userinfo(),
    };
  }

  async #callTool(name: string, args: Record<string, unknown>): Promise<ChatToolOutcome> {
    let outcome: ChatToolOutcome = await (await this.#delegatedSession()).call(name, args);
    if (outcome.kind === 'refused' && outcome.status === 403 && outcome.error === 'insufficient_scope' && this.#signedIn !== undefined) {
      // The challenge names the tool's scopes (and those the token has): ask for the ones the sign-in did not grant.
      const granted = this.#signedIn.scope;
      const missing = (outcome.scope ?? '').split(' ').filter((s) => s !== '' && !granted.includes(s));
      if (missing.length > 0) outcome = await this.#callWithApproval(name, args, missing);
    }
    this.transcript.add({ kind: 'tool', tool: name, args, ok: outcome.ok, text: describeChatOutcome(outcome) });
    return outcome;
  }

  async #callWithApproval(name: string, args: Record<string, unknown>, missing: string[]): Promise<ChatToolOutcome> {
    const now = (this.#deps.clock ?? Date.now)() / 1000;
    const approved = this.#approved;
    if (approved && missing.every((s) => approved.scopes.includes(s)) && (approved.expiresAt === undefined || approved.expiresAt > now + 10)) {
      return approved.session.call(name, args);
    }
    const signedIn = this.#signedIn!;
    // CIBA §7.1: shown to the approver and to the person, so both know they look at the same request.
    const binding = `Chat ${String(randomInt(1000, 10_000))}: ${name} for ${signedIn.who}`.slice(0, 100);
    const notice = (status: ApprovalStatus, reason?: string) => this.transcript.add({ kind: 'approval' as const, tool: name, scopes: missing, binding, status, ...(reason === undefined ? {} : { reason }) });
    let pending: PendingApproval;
    try {
      pending = await this.#deps.agent.requestApproval({ loginHint: signedIn.subject, scope: missing, resource: this.#deps.mcpUrl, bindingMessage: binding });
    } catch (err) {
      // Refused before anyone was asked: a policy (`deny`, a role), or a scope the agent may not have.
      const reason = refusalReason(err);
      notice('refused', reason);
      return { ok: false, kind: 'not_approved', reason };
    }
    // Shown once the request is in the queue, so that what the person reads is where the approvers look.
    const entry = notice('waiting');
    let tokens: TokenResponse;
    try {
      tokens = await pending.tokens;
    } catch (err) {
      const error = isMandateError(err) && err.code === 'ERR_TOKEN_REQUEST_FAILED' ? err.error : undefined;
      return this.#notApproved(entry, error === 'access_denied' ? 'denied' : error === 'expired_token' ? 'expired' : 'refused', err);
    }
    this.transcript.update(entry, { status: 'approved' });
    const scopes = (tokens.scope ?? '').split(' ').filter((s) => s !== '');
    const expiresAt = tokens.expiresAt;
    const session = await this.#openSession({ describe: `${signedIn.subject} (approved ${scopes.join(' ')})`, get: async () => ({ accessToken: tokens.accessToken, scope: scopes, ...(expiresAt === undefined ? {} : { expiresAt }) }), invalidate() {} });
    await this.#approved?.session.close();
    this.#approved = { session, scopes, expiresAt };
    return session.call(name, args);
  }

  /** Shows why the approval did not come (the server's own words: the approver's reason, the policy) and says so to the brain. */
  #notApproved(entry: Entry & { kind: 'approval' }, status: ApprovalStatus, err: unknown): ChatToolOutcome {
    const reason = refusalReason(err);
    this.transcript.update(entry, { status, reason });
    return { ok: false, kind: 'not_approved', reason };
  }

  async #userinfo(): Promise<Record<string, unknown>> {
    const tokens = await this.#delegatedTokens();
    const endpoint = (await this.#deps.agent.metadata())['userinfo_endpoint'];
    if (typeof endpoint !== 'string') throw new Error('the authorization server has no userinfo endpoint');
    const response = await (this.#deps.fetch ?? fetch)(endpoint, { headers: { authorization: `Bearer ${tokens.accessToken}` }, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`userinfo answered ${response.status}`);
    const claims = (await response.json()) as Record<string, unknown>;
    // Shown as a step like the tool calls: the answer comes from the authorization server, not from the agent.
    this.transcript.add({ kind: 'tool', tool: 'userinfo', args: {}, ok: true, text: JSON.stringify(claims) });
    return claims;
  }

  /** The person's current token (refreshed when due); when the authorization is gone, the person must sign in again. */
  async #delegatedTokens(refresh = false) {
    const signedIn = this.#signedIn;
    if (signedIn === undefined) throw new Error('not signed in');
    try {
      const tokens = refresh ? await this.#deps.agent.refresh(signedIn.key) : await this.#deps.agent.getDelegatedToken(signedIn.key);
      if (tokens !== undefined) return tokens;
    } catch (err) {
      if (!isMandateError(err) || err.code !== 'ERR_TOKEN_REQUEST_FAILED') throw err;
    }
    this.#signedIn = undefined;
    throw new Error('your authorization is gone (revoked or expired): sign in again');
  }

  async #delegatedSession(): Promise<McpSession> {
    if (this.#delegated) return this.#delegated;
    let refreshNext = false;
    this.#delegated = await this.#openSession({
      describe: 'the signed-in person',
      get: async () => {
        const tokens = await this.#delegatedTokens(refreshNext);
        refreshNext = false;
        return tokens;
      },
      invalidate: () => {
        refreshNext = true;
      },
    });
    return this.#delegated;
  }

  #openSession(tokenSource: Parameters<typeof openMcpSession>[0]['tokenSource']): Promise<McpSession> {
    const { issuer, agentId, agentSecret, mcpUrl, scope } = this.#deps;
    return openMcpSession({ issuer, clientId: agentId, clientSecret: agentSecret, mcpUrl, scope, reporter: quietReporter, tokenSource, ...(this.#deps.fetch ? { fetch: this.#deps.fetch } : {}) });
  }

  async #dropSessions(): Promise<void> {
    const sessions = [this.#delegated, this.#approved?.session];
    this.#delegated = undefined;
    this.#approved = undefined;
    for (const session of sessions) await session?.close().catch(() => {});
  }
}

/** The authorization server's own words for a refusal (the approver's reason, the policy); anything else is rethrown. */
function refusalReason(err: unknown): string {
  if (!isMandateError(err) || err.code !== 'ERR_TOKEN_REQUEST_FAILED') throw err;
  return err.errorDescription ?? err.error ?? err.message;
}
