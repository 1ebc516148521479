import { generateSecret, hashSecret, REFRESH_TOKEN_PREFIX } from './secret.ts';

/**
 * Refresh tokens: opaque `mrt_<43 base64url chars>` (256 random bits). The store keeps only the SHA-256; the token
 * names nothing, so a leaked database row cannot be turned back into a usable token.
 */
export function mintRefreshToken(): { token: string; hash: string } {
  const token = `${REFRESH_TOKEN_PREFIX}_${generateSecret()}`;
  return { token, hash: hashSecret(token) };
}

/** The hash to look a presented refresh token up by, or null when it cannot be one of ours. */
export function refreshTokenHash(presented: string): string | null {
  return /^mrt_[A-Za-z0-9_-]{43}$/.test(presented) ? hashSecret(presented) : null;
}
