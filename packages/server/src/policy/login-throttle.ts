/**
 * Login throttling policy (pure): after `freeFailures` failed attempts, each further failure locks the key for
 * `base × 2^(failures − freeFailures)` seconds, capped at `max`. Applied per account and per client address, so
 * guessing one account's password slows down without letting an attacker lock out everyone from one address.
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
