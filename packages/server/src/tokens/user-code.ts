import { createHmac, randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1 user codes: 8 characters of 20 consonants (no vowels, so no words; no look-alike digits),
 * 20^8 ≈ 2^34.6 of them: short enough to type from a screen, safe because entering them is rate-limited and they
 * expire within minutes. Shown as `BCDF-GHJK`; entered in any case, with or without the dash or spaces.
 */
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A new user code, formatted for display (`XXXX-XXXX`). */
export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return formatUserCode(code);
}

/** The canonical form of what a person typed (upper case, without dash and spaces), or null if it cannot be a code. */
export function normalizeUserCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== LENGTH) return null;
  for (const c of code) if (!ALPHABET.includes(c)) return null;
  return code;
}

export function formatUserCode(normalized: string): string {
  return `${normalized.slice(0, 4)}-${normalized.slice(4)}`;
}

/**
 * What the store keeps of a user code: the HMAC-SHA-256 of its canonical form under `key` (`deriveUserCodeKey(kek)`):
 * 2^34.6 codes are too few for a plain hash to hide them from whoever reads the database.
 */
export function userCodeHash(key: Buffer, normalized: string): string {
  return createHmac('sha256', key).update(normalized).digest('base64url');
}
