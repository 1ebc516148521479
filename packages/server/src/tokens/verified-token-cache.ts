import type { AccessTokenClaims } from './access-token.ts';

/**
 * Access tokens this server knows to be its own: minted here, or whose signature it already verified. Keyed by the
 * whole token (never a prefix: every JWT begins `eyJhbGciOi`), kept no longer than the token's `exp`, at most
 * `maxEntries` of them (oldest first out). Only the signature check is spared; revocation and agent, grant and user
 * status are checked on every use. With it, a resource server introspecting a fresh token costs no ES256 verify.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, AccessTokenClaims>();
  readonly #maxEntries: number;

  constructor(maxEntries = 20_000) {
    this.#maxEntries = maxEntries;
  }

  get(token: string, now: number): AccessTokenClaims | undefined {
    const claims = this.#entries.get(token);
    if (claims === undefined) return undefined;
    if (claims.exp <= now) {
      this.#entries.delete(token);
      return undefined;
    }
    return claims;
  }

  set(token: string, claims: AccessTokenClaims): void {
    if (this.#entries.size >= this.#maxEntries) {
      // Map iterates in insertion order: the first key is the oldest.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(token, claims);
  }
}
