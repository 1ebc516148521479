import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { MandateConfig } from '../config.ts';
import { admitLoginAttempt, afterLoginSuccess, type AttemptCounters, type LoginThrottlePolicy } from '../policy/login-throttle.ts';
import type { LoginThrottleRecord, LoginThrottleRecords } from '../store/store.ts';
import { hashSecret } from '../tokens/secret.ts';

/** What every login method (password, passkey) shares: one throttle over the same counters (SR-06, SR-15). */
export interface LoginThrottleDeps {
  throttle: Pick<LoginThrottleRecords, 'updateLoginThrottles'>;
  config: Pick<MandateConfig, 'users'>;
  /** Refused attempts are counted in the audit trail, not written one row each (SR-20's aggregation). */
  refusals: Pick<RefusalAudit, 'record'>;
}

/**
 * The account an attempt is against, as a throttle key: the SHA-256 of its normalised e-mail address (no address
 * in that table), whichever method names it, so a passkey and a password attempt count against one account.
 */
export const accountThrottleKey = (email: string): string => `account:${hashSecret(email)}`;

/** A passkey's account when it has no e-mail address, or a credential nobody registered. */
export const otherThrottleKey = (kind: 'user' | 'credential', id: string): string => `account:${kind}:${hashSecret(id)}`;

/** The store hands the counters back in the order of the keys: account, address, pair. */
const inOrder = (c: LoginThrottleRecord[]): AttemptCounters => [c[0]!, c[1]!, c[2]!];

const keysOf = (account: string, ip: string) => [account, `ip:${ip}`, `pair:${hashSecret(`${ip}\n${account}`)}`] as const;

function policyOf({ users }: Pick<MandateConfig, 'users'>): LoginThrottlePolicy {
  const lock = { baseLockSeconds: users.baseLockSeconds, maxLockSeconds: users.maxLockSeconds };
  return { account: { freeFailures: users.accountFreeFailures, ...lock }, address: { freeFailures: users.ipFreeFailures, ...lock }, windowSeconds: users.failureWindowSeconds };
}

export interface LoginAttempt {
  /** `accountThrottleKey(…)` or `otherThrottleKey(…)`. */
  account: string;
  ip: string;
  method: 'password' | 'passkey';
  now: number;
}

/**
 * Counts the attempt before its credential is checked, atomically on both stores, and says whether it may be
 * checked: 40 parallel guesses get as many checks as the policy allows, never one more (`policy/login-throttle.ts`).
 */
export async function admitLogin(deps: LoginThrottleDeps, attempt: LoginAttempt): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
  const policy = policyOf(deps.config);
  const decision = await deps.throttle.updateLoginThrottles(keysOf(attempt.account, attempt.ip), (current) => {
    const decided = admitLoginAttempt(inOrder(current), policy, attempt.now);
    return { write: decided.write, result: decided };
  });
  if (decision.admitted) return { ok: true };
  await deps.refusals.record({
    event: 'login.throttled',
    ip: attempt.ip,
    detail: { error: 'throttled', method: attempt.method, account: attempt.account.slice(8, 24), retry_after: decision.retryAfterSeconds },
  });
  return { ok: false, retryAfterSeconds: decision.retryAfterSeconds };
}

/** The attempt's credential was right: its account and pair counters start again, the address forgets it. */
export async function loginSucceeded(deps: Pick<LoginThrottleDeps, 'throttle'>, attempt: Omit<LoginAttempt, 'method'>): Promise<void> {
  await deps.throttle.updateLoginThrottles(keysOf(attempt.account, attempt.ip), (current) => ({
    write: afterLoginSuccess(inOrder(current), attempt.now),
    result: undefined,
  }));
}
