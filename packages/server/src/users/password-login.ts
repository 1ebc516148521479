import type { AuditLog } from '../audit/audit-log.ts';
import type { UserRecord, UserRecords } from '../store/store.ts';
import { normalizeEmail } from './email-address.ts';
import { accountThrottleKey, admitLogin, type LoginThrottleDeps, loginSucceeded } from './login-throttle.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, needsRehash, verifyPassword } from './password.ts';

export interface PasswordLoginDeps extends LoginThrottleDeps {
  store: Pick<UserRecords, 'getUserByEmail' | 'updateUser'>;
  audit: Pick<AuditLog, 'record'>;
  now: number;
}

export type PasswordLoginResult = { ok: true; user: UserRecord } | { ok: false; reason: 'invalid' | 'throttled'; retryAfterSeconds?: number };

/**
 * Password login with throttling: the attempt is counted (or refused) before the password is even checked, so
 * parallel guesses cannot outrun the lock (SR-06, `users/login-throttle.ts`); an unknown email costs the same scrypt
 * work as a known one; a success undoes its count. Every outcome is audited, never the password: a success with its
 * own row, failures and refusals by the throttle counted past the first of an address in a minute.
 */
export async function loginWithPassword(emailInput: string, password: string, ip: string, deps: PasswordLoginDeps): Promise<PasswordLoginResult> {
  // The account's own normal form (SR-17); input that has none cannot name an account but is throttled all the same.
  const normalized = normalizeEmail(emailInput);
  const email = normalized.ok ? normalized.email : emailInput.trim().toLowerCase();
  const attempt = { account: accountThrottleKey(email), ip, now: deps.now };
  const admitted = await admitLogin(deps, { ...attempt, method: 'password' });
  if (!admitted.ok) return { ok: false, reason: 'throttled', retryAfterSeconds: admitted.retryAfterSeconds };

  const user = normalized.ok ? await deps.store.getUserByEmail(email) : null;
  const valid = await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH + 1), user?.passwordHash ?? null);
  if (!valid || !user || user.status !== 'active') {
    // Counted past the first of an address in a minute (SR-20's aggregation): a spray must not grow the trail.
    await deps.refusals.record({
      event: 'login.failed',
      actor: user?.id ?? null,
      subject: user?.id ?? null,
      ip,
      detail: { error: !user ? 'unknown account' : !valid ? 'wrong password' : 'account disabled', method: 'password', account: attempt.account.slice(8, 24) },
    });
    return { ok: false, reason: 'invalid' };
  }
  await loginSucceeded(deps, attempt);
  if (needsRehash(user.passwordHash!)) await deps.store.updateUser(user.id, { passwordHash: await hashPassword(password), updatedAt: deps.now });
  await deps.audit.record({ event: 'login.succeeded', actor: user.id, subject: user.id, ip, detail: { method: 'password', amr: ['pwd'] } });
  return { ok: true, user };
}
