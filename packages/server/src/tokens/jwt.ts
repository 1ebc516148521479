import { jwsAlgorithms } from '../keys/jws-algorithms.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { LoadedSigningKey } from '../keys/signing-key.ts';

/**
 * Compact JWS for the tokens Mandate signs and later reads back (access tokens, ID tokens, actor tokens).
 * Hand-rolled over node:crypto because this is the hot path of the token and introspection endpoints; tokens
 * from other issuers (client assertions, upstream ID tokens) go through `jose` instead.
 */

const headerCache = new Map<string, string>();

function encodedHeader(key: LoadedSigningKey, typ: string): string {
  const cacheKey = `${key.kid}\u0000${typ}`;
  let header = headerCache.get(cacheKey);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, typ, kid: key.kid })).toString('base64url');
    headerCache.set(cacheKey, header);
  }
  return header;
}

/** Signs `claims` as a compact JWS with the given key and `typ` header. */
export function encodeJwt(key: LoadedSigningKey, typ: string, claims: object): string {
  if (!key.privateKey) throw new Error(`signing key ${key.kid} has no private key loaded`);
  const signingInput = `${encodedHeader(key, typ)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = jwsAlgorithms[key.alg].sign(key.privateKey, Buffer.from(signingInput));
  return `${signingInput}.${signature.toString('base64url')}`;
}

export type JwtFailure =
  | 'malformed'
  | 'unsupported_alg'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_typ'
  | 'wrong_issuer'
  | 'expired'
  | 'not_yet_valid';

export type VerifiedJwt = { ok: true; kid: string; claims: Record<string, unknown> } | { ok: false; failure: JwtFailure };

export interface OwnJwtExpectations {
  /** Accepted `typ` header values, e.g. ['at+jwt', 'application/at+jwt']. */
  typ: readonly string[];
  issuer: string;
  now: number;
  clockSkewSeconds: number;
}

/** Largest token we will try to parse; ours are far smaller, and this caps the work an attacker can cause. */
const MAX_TOKEN_LENGTH = 16_384;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  if (!BASE64URL.test(segment)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a token this server signed: structure, an algorithm we issue (never `none`, never a MAC), a `kid` in
 * our key ring with that algorithm, the signature, `typ`, `iss`, `exp` and `nbf`. Returns the claims or why not.
 */
export async function verifyOwnJwt(token: string, ring: KeyRing, expect: OwnJwtExpectations): Promise<VerifiedJwt> {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, failure: 'malformed' };
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return { ok: false, failure: 'malformed' };

  const header = decodeJsonSegment(token.slice(0, firstDot));
  if (!header) return { ok: false, failure: 'malformed' };
  const { alg, kid, typ } = header;
  if (typeof kid !== 'string' || typeof alg !== 'string') return { ok: false, failure: 'unsupported_alg' };
  const key = await ring.verificationKeyOrReload(kid);
  if (!key) return { ok: false, failure: 'unknown_key' };
  // The algorithm is the key's, never the header's choice (RFC 8725 §3.1).
  if (alg !== key.alg) return { ok: false, failure: 'unsupported_alg' };

  const signature = token.slice(secondDot + 1);
  if (!BASE64URL.test(signature)) return { ok: false, failure: 'malformed' };
  const signingInput = Buffer.from(token.slice(0, secondDot));
  if (!jwsAlgorithms[key.alg].verify(key.publicKey, signingInput, Buffer.from(signature, 'base64url'))) {
    return { ok: false, failure: 'bad_signature' };
  }
  if (typeof typ !== 'string' || !expect.typ.includes(typ)) return { ok: false, failure: 'wrong_typ' };

  const claims = decodeJsonSegment(token.slice(firstDot + 1, secondDot));
  if (!claims) return { ok: false, failure: 'malformed' };
  if (claims['iss'] !== expect.issuer) return { ok: false, failure: 'wrong_issuer' };
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || exp + expect.clockSkewSeconds <= expect.now) return { ok: false, failure: 'expired' };
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - expect.clockSkewSeconds > expect.now)) return { ok: false, failure: 'not_yet_valid' };
  return { ok: true, kid, claims };
}
