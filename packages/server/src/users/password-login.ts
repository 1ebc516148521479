import type { AuditLog } from '../audit/audit-log.ts';
import type { MandateConfig } from '../config.ts';
import { lockSecondsAfter } from '../policy/login-throttle.ts';
import type { LoginThrottleRecords, UserRecord, UserRecords } from '../store/store.ts';
import { hashSecret } from '../tokens/secret.ts';
import { normalizeEmail } from './email-address.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, needsRehash, verifyPassword } from './password.ts';

export interface PasswordLoginDeps {
  store: Pick<UserRecords, 'getUserByEmail' | 'updateUser'> & LoginThrottleRecords;
  audit: Pick<AuditLog, 'record'>;
  config: Pick<MandateConfig, 'users'>;
  now: number;
}

export type PasswordLoginResult = { ok: true; user: UserRecord } | { ok: false; reason: 'invalid' | 'throttled'; retryAfterSeconds?: number };

/** Throttle keys: the account by a hash of its email (no addresses in that table), and the client address. */
const accountKey = (email: string) => `account:${hashSecret(email)}`;
const ipKey = (ip: string) => `ip:${ip}`;

/**
 * Password login with throttling: a locked account or address is refused before the password is even checked; an
 * unknown email costs the same scrypt work as a known one; every failure counts against both keys and may lock
 * them (exponential backoff); success clears the account's counter. Every outcome is audited, never the password.
 */
export async function loginWithPassword(emailInput: string, password: string, ip: string, deps: PasswordLoginDeps): Promise<PasswordLoginResult> {
  // The account's own normal form (SR-17); input that has none cannot name an account but is throttled all the same.
  const normalized = normalizeEmail(emailInput);
  const email = normalized.ok ? normalized.email : emailInput.trim().toLowerCase();
  const { users } = deps.config;
  const keys = [
    { key: accountKey(email), settings: { freeFailures: users.accountFreeFailures, baseLockSeconds: users.baseLockSeconds, maxLockSeconds: users.maxLockSeconds } },
    { key: ipKey(ip), settings: { freeFailures: users.ipFreeFailures, baseLockSeconds: users.baseLockSeconds, maxLockSeconds: users.maxLockSeconds } },
  ];
  let lockedUntil = 0;
  for (const { key } of keys) lockedUntil = Math.max(lockedUntil, (await deps.store.getLoginThrottle(key))?.lockedUntil ?? 0);
  if (lockedUntil > deps.now) {
    await deps.audit.record({ event: 'login.throttled', ip, detail: { method: 'password', account: accountKey(email).slice(8, 24), retry_after: lockedUntil - deps.now } });
    return { ok: false, reason: 'throttled', retryAfterSeconds: lockedUntil - deps.now };
  }

  const user = normalized.ok ? await deps.store.getUserByEmail(email) : null;
  const valid = await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH + 1), user?.passwordHash ?? null);
  if (!valid || !user || user.status !== 'active') {
    for (const { key, settings } of keys) {
      const failures = await deps.store.recordLoginFailure(key, deps.now, users.failureWindowSeconds);
      const lock = lockSecondsAfter(failures, settings);
      if (lock > 0) await deps.store.lockLogin(key, deps.now + lock);
    }
    await deps.audit.record({
      event: 'login.failed',
      actor: user?.id ?? null,
      subject: user?.id ?? null,
      ip,
      detail: { method: 'password', reason: !user ? 'unknown account' : !valid ? 'wrong password' : 'account disabled', account: accountKey(email).slice(8, 24) },
    });
    return { ok: false, reason: 'invalid' };
  }
  await deps.store.clearLoginFailures(accountKey(email));
  if (needsRehash(user.passwordHash!)) await deps.store.updateUser(user.id, { passwordHash: await hashPassword(password), updatedAt: deps.now });
  await deps.audit.record({ event: 'login.succeeded', actor: user.id, subject: user.id, ip, detail: { method: 'password', amr: ['pwd'] } });
  return { ok: true, user };
}
