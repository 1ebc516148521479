import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares a secret (a CSRF token, an OAuth `state`) with what a request brought, in constant time. */
export function sameSecret(expected: string, given: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given)) && expected !== '';
}
