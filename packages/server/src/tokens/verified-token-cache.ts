import { hash } from 'node:crypto';

/**
 * Remembers tokens whose signature was already verified, keyed by the SHA-256 of the whole token (never a prefix:
 * two JWTs share their first characters) and kept no longer than the token's own `exp`. Only the signature check
 * is cached; revocation and agent status are checked on every use.
 */
export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, { value: T; exp: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(key: string, now: number): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.exp <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, exp: number): void {
    if (this.#entries.size >= this.#maxEntries) {
      // Evict the oldest insertion; Map iterates in insertion order.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, exp });
  }
}
