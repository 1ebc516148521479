import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A fresh random value for `state`, `nonce` or a PKCE `code_verifier`: 256 bits, base64url (43 characters of the
 * RFC 7636 §4.1 unreserved set), so it cannot be guessed (RFC 6749 §10.10).
 */
export function randomUrlSafe(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A PKCE pair (RFC 7636 §4.1–4.2): the `code_verifier` kept by the client and its S256 `code_challenge`. */
export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/**
 * Creates a PKCE pair with method S256 (`plain` is never used: OAuth 2.1 §4.1.1, RFC 9700 §2.1.1).
 *
 * @example
 * const { codeVerifier, codeChallenge } = createPkcePair();
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export function createPkcePair(): PkcePair {
  const codeVerifier = randomUrlSafe();
  return { codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'), codeChallengeMethod: 'S256' };
}

/** Compares two secrets in time that does not depend on where they first differ (both are hashed to equal length). */
export function secretsEqual(a: string, b: string): boolean {
  const hash = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(hash(a), hash(b));
}
