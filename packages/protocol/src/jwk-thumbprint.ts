import { createHash } from 'node:crypto';

/** The members of each key type that make up its RFC 7638 §3.2 thumbprint input, in lexicographic order. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * The RFC 7638 SHA-256 JWK thumbprint (base64url, no padding) of a public EC, OKP or RSA key: the JSON object of its
 * required members only, in lexicographic order, without whitespace. Other members (`kid`, `alg`, `use`) do not
 * change it. Undefined for another key type or a required member that is not a string. RFC 9449 §6.1 binds a DPoP
 * token to this value (`cnf.jkt`).
 *
 * @example jwkThumbprint({ kty: 'EC', crv: 'P-256', x: '…', y: '…' }) // '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const members = typeof jwk.kty === 'string' && Object.hasOwn(REQUIRED_MEMBERS, jwk.kty) ? REQUIRED_MEMBERS[jwk.kty]! : undefined;
  if (members === undefined) return undefined;
  const required: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') return undefined;
    required[member] = value;
  }
  // JSON.stringify keeps insertion order, which is the lexicographic order of `members`; the values are plain strings.
  return createHash('sha256').update(JSON.stringify(required)).digest('base64url');
}
