import type { SignatureMaker, SigningAlgorithm } from './algorithms.ts';

/** A private key ready to sign: its algorithm, its `kid` as published in the JWKS, and a bound signer. */
export interface JwsSigningKey {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  readonly sign: SignatureMaker;
}

/** A key that signs in process (a {@link JwsSigningKey}) or asks another party to sign, answering later (a KMS, an HSM). */
export interface JwsSigner {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  readonly sign: (signingInput: Buffer) => Buffer | Promise<Buffer>;
}

// One encoded header per key and `typ`, encoded once: every token of that kind repeats it byte for byte.
// Bounded, and cleared when full (a rotation adds one key at a time).
const headerCache = new Map<string, string>();
const headerCacheMax = 64;

function encodedHeader(key: JwsSigner, typ: string): string {
  const cacheKey = `${key.alg}\u0000${key.kid}\u0000${typ}`;
  let header = headerCache.get(cacheKey);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, typ, kid: key.kid })).toString('base64url');
    if (headerCache.size >= headerCacheMax) headerCache.clear();
    headerCache.set(cacheKey, header);
  }
  return header;
}

/**
 * Signs `payload` as a compact JWS (RFC 7515 §7.1) with the header `{ alg, typ, kid }`: `typ` names what the token
 * is (RFC 8725 §3.11), e.g. `at+jwt` for an access token (RFC 9068 §2.1), so that one kind never passes for another.
 */
export function encodeCompactJws(key: JwsSigningKey, typ: string, payload: object): string {
  return signJws(encodedHeader(key, typ), payload, key.sign);
}

/** A compact JWS of an already encoded header and `payload`, signed by `sign` (RFC 7515 §5.1 steps 4–8). */
export function signJws(encodedHeader: string, payload: object, sign: SignatureMaker): string {
  const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${sign(Buffer.from(signingInput, 'latin1')).toString('base64url')}`;
}

/** {@link encodeCompactJws} with a signer that may answer later; an in-process key signs at once all the same. */
export async function encodeCompactJwsWith(signer: JwsSigner, typ: string, payload: object): Promise<string> {
  const signingInput = `${encodedHeader(signer, typ)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = await signer.sign(Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${signature.toString('base64url')}`;
}
