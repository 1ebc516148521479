import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Machine secrets (client secrets, API keys, admin tokens, refresh tokens, codes) are 256-bit random strings. Being
 * uniformly random, they need no slow KDF: a SHA-256 stored as hex is enough, and the comparison is constant-time.
 */

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatchesHash(secret: string, storedHash: string | null): boolean {
  if (storedHash === null || storedHash.length !== 64) return false;
  return timingSafeEqual(hash('sha256', secret, 'buffer'), Buffer.from(storedHash, 'hex'));
}

/**
 * A value derived from a browser session's secret (its cookie value) for things the browser must not be able to
 * predict and the server need not store (upstream PKCE verifier, nonce): HMAC-SHA256(session secret, label).
 */
export function sessionBoundSecret(sessionSecret: string, label: string): string {
  return createHmac('sha256', sessionSecret).update(`mandate-bound:${label}`).digest('base64url');
}

/** An opaque identifier with a readable prefix, e.g. `agt_3q…` (128 random bits). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Admin API tokens look like `mad_<id>.<secret>` (created by `mandate admin-token create`). */
export const ADMIN_TOKEN_PREFIX = 'mad';
/** Resource API keys look like `mrk_<id>.<secret>` (created by `mandate resource create`). */
export const RESOURCE_KEY_PREFIX = 'mrk';

/**
 * A credential that carries its own lookup id: `<prefix>_<id>.<secret>`. The id finds the record without scanning;
 * only the hash of the secret part is stored.
 */
export function newPrefixedCredential(prefix: string): { id: string; secret: string; credential: string } {
  // Hex, so an id never starts with `-` and passes as a CLI argument.
  const id = randomBytes(8).toString('hex');
  const secret = generateSecret();
  return { id, secret, credential: `${prefix}_${id}.${secret}` };
}

export function parsePrefixedCredential(prefix: string, credential: string): { id: string; secret: string } | null {
  if (!credential.startsWith(`${prefix}_`)) return null;
  const dot = credential.indexOf('.', prefix.length + 1);
  if (dot < 0) return null;
  const id = credential.slice(prefix.length + 1, dot);
  const secret = credential.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { id, secret };
}

/** Refresh tokens look like `mrt_<secret>`: opaque, 256 random bits, stored only as a SHA-256 (`tokens/refresh-token.ts`). */
export const REFRESH_TOKEN_PREFIX = 'mrt';
