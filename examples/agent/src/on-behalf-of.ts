import { AgentAuthClient, FileTokenStore } from '@mandate/sdk/agent';
import type { DelegatedTokenSet } from '@mandate/sdk/agent';
import { isMandateError } from '@mandate/sdk/errors';
import { openMcpSession } from './mcp-session.ts';
import type { Reporter } from './reporter.ts';
import { runStep } from './step.ts';

/**
 * The agent acting for a user (draft-oauth-ai-agents-on-behalf-of-user-02), through `@mandate/sdk`: it prints a
 * login URL, the user signs in and approves this agent in the browser, the browser comes back to a loopback
 * redirect (`http://127.0.0.1:<port>/callback`), and the SDK redeems the code with the agent's actor token (its own token for the authorization server) as
 * `actor_token`. The resulting token names the user as `sub` and the agent in `act`; the agent then calls the MCP
 * server's `whoami`, which answers with both. With a token store file, the next run reuses (and refreshes) the
 * stored authorization instead of asking again.
 */

export interface OnBehalfOfOptions {
  issuer: string;
  /** The agent's credentials: it proves itself with its actor token (`getActorToken`) at the code redemption. */
  clientId: string;
  clientSecret: string;
  /** The public OAuth application (registered with the redirect URI `http://127.0.0.1/callback`). */
  appClientId: string;
  mcpUrl: string;
  /** Resource scopes to ask the user for; `openid email offline_access` are added. */
  scope: string;
  /** Loopback port of the redirect URI; 0 picks a free one. */
  callbackPort: number;
  timeoutMs: number;
  /** A FileTokenStore path, to keep the authorization across runs. */
  tokenStorePath?: string;
  /** The store key of an earlier run's authorization, to try before asking the user. */
  rememberedKey?: string;
  reporter: Reporter;
}

export interface OnBehalfOfResult {
  ok: boolean;
  /** The store key of the authorization used, for the next run. */
  key?: string;
}

export async function runOnBehalfOf(options: OnBehalfOfOptions): Promise<OnBehalfOfResult> {
  const { reporter } = options;
  const agent = new AgentAuthClient({
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    app: { clientId: options.appClientId },
    ...(options.tokenStorePath === undefined ? {} : { tokenStore: new FileTokenStore(options.tokenStorePath) }),
  });

  let tokens = options.rememberedKey === undefined ? undefined : await storedAuthorization(agent, options.rememberedKey, reporter);
  if (tokens === undefined) tokens = await signIn(agent, options);
  const key = tokens.key;
  const who = tokens.idTokenClaims?.['email'] ?? tokens.subject;
  reporter.event(
    'signed_in',
    { subject: tokens.subject ?? null, actor: tokens.actor ?? null, email: tokens.idTokenClaims?.['email'] ?? null, scope: tokens.scope, refreshable: tokens.refreshToken !== undefined },
    `authorized by ${String(who)}: tokens for user ${tokens.subject} with agent ${tokens.actor} acting (scope "${tokens.scope.join(' ')}")`,
  );

  let refreshNext = false;
  const session = await openMcpSession({
    ...options,
    tokenSource: {
      describe: `${tokens.subject} via ${options.clientId}`,
      async get() {
        const current = refreshNext ? await agent.refresh(key) : await agent.getDelegatedToken(key);
        refreshNext = false;
        if (current === undefined) throw new Error('the authorization is gone (revoked or expired); run again to sign in');
        return current;
      },
      invalidate() {
        refreshNext = true;
      },
    },
  });
  try {
    const outcome = await runStep(session, reporter, 'whoami');
    const value = outcome.ok ? (outcome.value as { subject?: string; agent?: string | null; delegation_chain?: unknown[] }) : undefined;
    const ok = value !== undefined && value.subject === tokens.subject && value.agent === options.clientId;
    reporter.event(
      'done',
      { ok, subject: value?.subject ?? null, agent: value?.agent ?? null },
      ok
        ? `done: the MCP server sees user ${value.subject} and agent ${value.agent} acting for them`
        : 'done: whoami did not name both the user and the agent',
    );
    return { ok, key };
  } finally {
    await session.close();
  }
}

/** The authorization of an earlier run, refreshed if due; undefined when it is gone (then the user signs in again). */
async function storedAuthorization(agent: AgentAuthClient, key: string, reporter: Reporter): Promise<DelegatedTokenSet | undefined> {
  try {
    const tokens = await agent.getDelegatedToken(key);
    if (tokens !== undefined) reporter.event('reused', { subject: tokens.subject ?? null }, `using the stored authorization of ${tokens.subject} (no browser needed; run with --login to sign in again)`);
    return tokens;
  } catch (err) {
    if (!isMandateError(err) || err.code !== 'ERR_TOKEN_REQUEST_FAILED') throw err;
    reporter.event('stored_refused', { error: err.error ?? null }, `the stored authorization no longer works (${err.error ?? err.message}); signing in again`);
    return undefined;
  }
}

async function signIn(agent: AgentAuthClient, options: OnBehalfOfOptions): Promise<DelegatedTokenSet> {
  const { reporter } = options;
  const signIn = await agent.startLoopbackAuthorization({
    scope: `openid email offline_access ${options.scope}`,
    resource: options.mcpUrl,
    port: options.callbackPort,
    timeoutMs: options.timeoutMs,
    onIgnoredCallback: (err) => reporter.event('callback_ignored', { reason: (err as { code?: string }).code ?? 'unknown' }, `ignored a request to the callback that is not this sign-in's`),
  });
  reporter.event(
    'login_url',
    { url: signIn.url, redirect_uri: signIn.redirectUri },
    `\nOpen this URL in your browser, sign in, and approve agent ${options.clientId}:\n\n  ${signIn.url}\n\nWaiting for the browser to come back to ${signIn.redirectUri} …\n`,
  );
  return signIn.tokens;
}
