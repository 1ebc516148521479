import type { AuditLog } from '../audit/audit-log.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { UpstreamProviderConfig } from '../config.ts';
import type { UpstreamLoginStateRecords } from '../store/store.ts';
import { generateSecret, hashSecret, sessionBoundSecret } from '../tokens/secret.ts';
import { resolveUpstreamAccount } from '../users/upstream-account.ts';
import type { UpstreamIdentity, UpstreamProviders } from '../users/upstream-oidc.ts';

export interface UpstreamLoginDeps {
  providers: Pick<UpstreamProviders, 'get' | 'authorizationUrl' | 'complete'>;
  states: UpstreamLoginStateRecords;
  accounts: Parameters<typeof resolveUpstreamAccount>[2]['store'];
  audit: Pick<AuditLog, 'record'>;
  refusals: Pick<RefusalAudit, 'record'>;
  /** Our callback URL for a provider (the `redirect_uri` we register with it). */
  callbackUrl(providerId: string): string;
}

/** The browser session as this flow needs it: its id hash (the `state` is bound to it) and its secret. */
export interface SessionKeys {
  idHash: string;
  /** The session cookie's value: the PKCE verifier and the nonce are derived from it, so neither is stored. */
  secret: string;
}

type Provider = Readonly<UpstreamProviderConfig>;

/** The RFC 8176 method of a login through an upstream provider. */
export const UPSTREAM_AMR = ['fed'];

const STATE_TTL_SECONDS = 600;

/**
 * Login through an upstream OpenID provider: `start` sends the browser there, `finish` takes the callback. `state`
 * is random and stored only as a hash, bound to the browser session that started it and usable once; the PKCE
 * verifier and the nonce are derived from the session's secret and the state, so nothing secret is stored at all.
 * Every outcome of `finish` is audited.
 */
export function upstreamLoginFlow(deps: UpstreamLoginDeps) {
  const attemptOf = (session: SessionKeys, state: string) => ({
    state,
    nonce: sessionBoundSecret(session.secret, `nonce:${state}`),
    codeVerifier: sessionBoundSecret(session.secret, `pkce:${state}`),
  });

  return {
    provider: (id: string): Provider | undefined => deps.providers.get(id),

    async start({ provider, session, returnTo, now }: { provider: Provider; session: SessionKeys; returnTo: string; now: number }): Promise<{ ok: true; location: string } | { ok: false; detail: string }> {
      const state = generateSecret();
      let location: string;
      try {
        location = await deps.providers.authorizationUrl(provider, deps.callbackUrl(provider.id), attemptOf(session, state));
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
      await deps.states.createUpstreamLoginState({ stateHash: hashSecret(state), sessionHash: session.idHash, providerId: provider.id, returnTo, expiresAt: now + STATE_TTL_SECONDS });
      return { ok: true, location };
    },

    async finish(input: { provider: Provider; callbackUrl: URL; session: SessionKeys | null; ip: string; now: number }): Promise<{ ok: true; userId: string; returnTo: string } | { ok: false; returnTo?: string }> {
      const { provider, session, ip, now } = input;
      const state = input.callbackUrl.searchParams.get('state') ?? '';
      const fail = async (reason: string, returnTo?: string) => {
        await deps.audit.record({ event: 'login.failed', ip, detail: { method: 'upstream', provider: provider.id, reason } });
        return { ok: false as const, ...(returnTo ? { returnTo } : {}) };
      };
      // Only this browser session may spend the state (SR-22): a callback from anywhere else leaves it in place,
      // so whoever learns a state value cannot cancel the login it belongs to. Such callbacks are counted, not
      // written one row each: anyone can send them.
      const pending = state && session ? await deps.states.takeUpstreamLoginState(hashSecret(state), session.idHash, now) : null;
      if (!session || !pending || pending.providerId !== provider.id) {
        await deps.refusals.record({ event: 'login.refused', ip, detail: { error: 'unknown, expired or foreign state', method: 'upstream', provider: provider.id } });
        return { ok: false };
      }
      let identity: UpstreamIdentity;
      try {
        identity = await deps.providers.complete(provider, input.callbackUrl, deps.callbackUrl(provider.id), attemptOf(session, state));
      } catch (err) {
        return fail(`upstream response rejected: ${(err as Error).message}`.slice(0, 300), pending.returnTo);
      }
      const account = await resolveUpstreamAccount(provider, identity, { store: deps.accounts, now });
      if (!account.ok) return fail(account.reason, pending.returnTo);
      const { user } = account;
      if (account.how !== 'linked') {
        await deps.audit.record({ event: account.how === 'provisioned' ? 'user.provisioned' : 'user.identity_linked', actor: user.id, subject: user.id, ip, detail: { provider: provider.id, issuer: identity.issuer } });
      }
      await deps.audit.record({ event: 'login.succeeded', actor: user.id, subject: user.id, ip, detail: { method: 'upstream', provider: provider.id, amr: UPSTREAM_AMR } });
      return { ok: true, userId: user.id, returnTo: pending.returnTo };
    },
  };
}

export type UpstreamLoginFlow = ReturnType<typeof upstreamLoginFlow>;
