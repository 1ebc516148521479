/**
 * Login throttling policy (pure). Every attempt (password or passkey) is counted before its credential is checked,
 * against three counters (SR-06):
 * - the account (from every address): after `freeFailures` attempts, each further one locks the account for
 *   `base × 2^(failures − freeFailures)` seconds, capped at `max`;
 * - the address (on every account): the same with the address's own, higher, free count (NAT is shared);
 * - the pair (this address on this account): no lock of its own; it says whether the address has been guessing
 *   this account.
 * A locked account refuses every attempt. A locked address refuses attempts only on accounts it has failed on in
 * the window, so it never locks out an account whose password was not being guessed from there (known and unknown
 * accounts alike, so the answer tells nothing about which exist). A success undoes its own count: the account's and the pair's counters are
 * cleared, the address's loses this attempt.
 */
export interface ThrottleSettings {
  freeFailures: number;
  baseLockSeconds: number;
  maxLockSeconds: number;
}

export function lockSecondsAfter(failures: number, settings: ThrottleSettings): number {
  if (failures < settings.freeFailures) return 0;
  const exponent = Math.min(failures - settings.freeFailures, 30);
  return Math.min(settings.baseLockSeconds * 2 ** exponent, settings.maxLockSeconds);
}

/** One counter as the store keeps it. */
export interface ThrottleCounter {
  key: string;
  failures: number;
  lockedUntil: number;
  updatedAt: number;
}

export interface LoginThrottlePolicy {
  account: ThrottleSettings;
  address: ThrottleSettings;
  /** A counter whose last attempt is older than this starts again from zero. */
  windowSeconds: number;
}

/** The three counters of one attempt, in this order. */
export type AttemptCounters = readonly [account: ThrottleCounter, address: ThrottleCounter, pair: ThrottleCounter];

export type AttemptDecision = { admitted: true; write: ThrottleCounter[] } | { admitted: false; retryAfterSeconds: number; write: [] };

/** Whether an attempt may check its credential now; if so, the counters with this attempt counted (and locks set). */
export function admitLoginAttempt(counters: AttemptCounters, policy: LoginThrottlePolicy, now: number): AttemptDecision {
  const fresh = (c: ThrottleCounter): ThrottleCounter => (c.updatedAt < now - policy.windowSeconds ? { ...c, failures: 0 } : c);
  const [account, address, pair] = counters.map(fresh) as unknown as AttemptCounters;
  const wait = Math.max(account.lockedUntil > now ? account.lockedUntil - now : 0, address.lockedUntil > now && pair.failures > 0 ? address.lockedUntil - now : 0);
  if (wait > 0) return { admitted: false, retryAfterSeconds: wait, write: [] };
  const counted = (c: ThrottleCounter, settings?: ThrottleSettings): ThrottleCounter => {
    const failures = c.failures + 1;
    const lock = settings ? lockSecondsAfter(failures, settings) : 0;
    return { key: c.key, failures, lockedUntil: lock > 0 ? Math.max(c.lockedUntil, now + lock) : c.lockedUntil, updatedAt: now };
  };
  return { admitted: true, write: [counted(account, policy.account), counted(address, policy.address), counted(pair)] };
}

/** After a correct credential: the account and the pair start again, the address forgets this one attempt. */
export function afterLoginSuccess(counters: AttemptCounters, now: number): ThrottleCounter[] {
  const [account, address, pair] = counters;
  const cleared = (c: ThrottleCounter): ThrottleCounter => ({ key: c.key, failures: 0, lockedUntil: 0, updatedAt: now });
  return [cleared(account), { ...address, failures: Math.max(0, address.failures - 1) }, cleared(pair)];
}
