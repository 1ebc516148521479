import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { z } from 'zod';

/**
 * The keys a client (an agent) may register for `private_key_jwt` (RFC 7523 §2.2): public asymmetric keys of the
 * types our client-assertion algorithms use, and nothing else. A private key (`d`, the RSA primes), a symmetric
 * `oct` key, a curve or size we do not accept, an `alg` that does not fit the key, or members that do not make a
 * key are refused with the reason; an accepted key is kept as its public members only, so no stored JWKS can echo
 * more than it must. Management checks keys when they are registered; client authentication and the views read
 * stored keys through `usableClientJwks`, so a key stored before these rules is used and shown only as its public half.
 */

/** Asymmetric algorithms accepted for client assertions, and the key each needs; MAC-based `client_secret_jwt` is not offered. */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;
type AssertionAlg = (typeof CLIENT_ASSERTION_ALGS)[number];

const KEY_OF_ALG: Readonly<Record<AssertionAlg, { kty: string; crv?: string }>> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
};

/** The members that make the public key of each type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'], RSA: ['n', 'e'] };
/** Private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const CURVES: Readonly<Record<string, readonly string[]>> = { EC: ['P-256', 'P-384'], OKP: ['Ed25519'] };
const MIN_RSA_BITS = 2048;
const KID = /^[\x21-\x7E]{1,128}$/;

export type ClientJwkCheck = { ok: true; jwk: Record<string, unknown> } | { ok: false; reason: string };

/** Checks one JWK a client registers; returns its public form (`kty`, the key's members, `kid`, `alg`, `use`). */
export function checkClientJwk(jwk: unknown): ClientJwkCheck {
  const refuse = (reason: string): ClientJwkCheck => ({ ok: false, reason });
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refuse('is not a JSON object');
  const key = jwk as Record<string, unknown>;
  const secret = SECRET_MEMBERS.filter((member) => member in key);
  if (key['kty'] === 'oct') return refuse('is a symmetric (oct) key: register the public half of an asymmetric key');
  if (secret.length > 0) return refuse(`holds private key material (${secret.join(', ')}): register the public key only`);
  const kty = key['kty'];
  if (typeof kty !== 'string' || !(kty in PUBLIC_MEMBERS)) return refuse('kty must be EC, OKP or RSA');
  const members = PUBLIC_MEMBERS[kty]!;
  for (const member of members) {
    const value = key[member];
    if (typeof value !== 'string') return refuse(`${member} is missing`);
    if (member !== 'crv' && !/^[A-Za-z0-9_-]{1,1400}$/.test(value)) return refuse(`${member} is not base64url`);
  }
  if (kty in CURVES && !CURVES[kty]!.includes(key['crv'] as string)) return refuse(`crv must be one of ${CURVES[kty]!.join(', ')}`);
  const alg = key['alg'];
  if (alg !== undefined) {
    const needs = KEY_OF_ALG[alg as AssertionAlg];
    if (!needs) return refuse(`alg must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
    if (needs.kty !== kty || (needs.crv !== undefined && needs.crv !== key['crv'])) return refuse(`alg ${String(alg)} does not fit a ${kty} ${String(key['crv'] ?? '')} key`.trimEnd());
  }
  if (key['use'] !== undefined && key['use'] !== 'sig') return refuse('use must be sig');
  if (key['key_ops'] !== undefined && !(Array.isArray(key['key_ops']) && key['key_ops'].length > 0 && key['key_ops'].every((op) => op === 'verify'))) {
    return refuse('key_ops must be ["verify"]');
  }
  if (key['kid'] !== undefined && (typeof key['kid'] !== 'string' || !KID.test(key['kid']))) return refuse('kid must be 1–128 printable characters');

  const publicJwk: Record<string, unknown> = { kty };
  for (const member of members) publicJwk[member] = key[member];
  let imported;
  try {
    imported = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
  } catch {
    return refuse('is not a valid public key (its members do not make one)');
  }
  if (kty === 'RSA' && (imported.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return refuse(`RSA keys must have at least ${MIN_RSA_BITS} bits`);
  for (const member of ['kid', 'alg', 'use'] as const) if (key[member] !== undefined) publicJwk[member] = key[member];
  return { ok: true, jwk: publicJwk };
}

/**
 * The usable public keys of a stored JWK Set. A JWK Set stored before keys were checked may hold a private key: its
 * public half is used (and shown), never the private members; a symmetric or unusable key is left out.
 */
export function usableClientJwks(jwks: { keys: readonly unknown[] } | null): { keys: Record<string, unknown>[] } {
  const keys: Record<string, unknown>[] = [];
  for (const key of jwks?.keys ?? []) {
    if (typeof key !== 'object' || key === null || (key as Record<string, unknown>)['kty'] === 'oct') continue;
    const publicPart = Object.fromEntries(Object.entries(key).filter(([member]) => !SECRET_MEMBERS.includes(member)));
    const checked = checkClientJwk(publicPart);
    if (checked.ok) keys.push(checked.jwk);
  }
  return { keys };
}

/**
 * A JWK Set for `private_key_jwt` (SR-12): 1–10 public asymmetric keys of the types client assertions use
 * (oauth/client-jwks.ts), each kept as its public members only; a private, symmetric or malformed key is refused
 * with the reason and its index.
 */
export const jwksInput = z
  .object({ keys: z.array(z.unknown()).min(1).max(10) })
  .strict()
  .transform((jwks, ctx) => {
    const keys: Record<string, unknown>[] = [];
    jwks.keys.forEach((key, index) => {
      const checked = checkClientJwk(key);
      if (checked.ok) keys.push(checked.jwk);
      else ctx.addIssue({ code: 'custom', path: ['keys', index], message: `the key ${checked.reason}` });
    });
    const kids = keys.flatMap((key) => (typeof key['kid'] === 'string' ? [key['kid']] : []));
    if (new Set(kids).size !== kids.length) ctx.addIssue({ code: 'custom', path: ['keys'], message: 'kid values must be unique' });
    return { keys };
  });
