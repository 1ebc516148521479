import { constants, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { joseToDer } from './ecdsa-signature.ts';

/**
 * The asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) a verifier can be configured for. `none` and the
 * HMAC algorithms are absent on purpose: with a public key as the "secret" an attacker can forge HS256 tokens, and
 * `none` is forbidden for access tokens (RFC 9068 §4).
 */
export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

/** The algorithms a Mandate authorization server issues with (ES256 default, EdDSA and RS256 selectable). */
export const defaultAlgorithms: readonly JwsAlgorithm[] = ['ES256', 'EdDSA', 'RS256'];

/** Checks a signature over the JWS signing input. */
export type SignatureCheck = (signingInput: Buffer, signature: Buffer) => boolean;

interface AlgorithmSpec {
  kty: 'EC' | 'OKP' | 'RSA';
  /** EC curve or OKP subtype the key must have. */
  curve?: string;
  hash: string | null;
  /** Size in bytes of R and of S for ECDSA (RFC 7518 §3.4). */
  ecSize?: number;
  pss?: boolean;
}

const specs: Record<JwsAlgorithm, AlgorithmSpec> = {
  ES256: { kty: 'EC', curve: 'P-256', hash: 'sha256', ecSize: 32 },
  ES384: { kty: 'EC', curve: 'P-384', hash: 'sha384', ecSize: 48 },
  ES512: { kty: 'EC', curve: 'P-521', hash: 'sha512', ecSize: 66 },
  EdDSA: { kty: 'OKP', curve: 'Ed25519', hash: null },
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
};

/** Node's names for the JWK curves, as `KeyObject.asymmetricKeyDetails.namedCurve` reports them. */
const nodeCurves: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

/** True when `alg` names an asymmetric JWS algorithm (RFC 7518 §3.1, RFC 8037 §3.1) this SDK can verify. */
export function isSupportedAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(specs, alg);
}

/**
 * Returns a signature check bound to `key` for `alg`, or undefined when the key cannot be used with that algorithm
 * (wrong key type or curve, or an RSA key under 2048 bits, RFC 7518 §3.3). Binding the algorithm to the key here is
 * what stops algorithm confusion: a token's `alg` can only select a check that was built for that key's type.
 */
export function signatureCheckFor(alg: JwsAlgorithm, key: KeyObject): SignatureCheck | undefined {
  const spec = specs[alg];
  if (key.type !== 'public') return undefined;
  const details = key.asymmetricKeyDetails ?? {};
  switch (spec.kty) {
    case 'EC': {
      if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== nodeCurves[spec.curve as string]) return undefined;
      const size = spec.ecSize as number;
      const hash = spec.hash as string;
      return (input, signature) => {
        const der = joseToDer(signature, size);
        return der !== undefined && cryptoVerify(hash, input, key, der);
      };
    }
    case 'OKP':
      if (key.asymmetricKeyType !== 'ed25519') return undefined;
      return (input, signature) => cryptoVerify(null, input, key, signature);
    case 'RSA': {
      if (key.asymmetricKeyType !== 'rsa' || (details.modulusLength ?? 0) < 2048) return undefined;
      const hash = spec.hash as string;
      if (spec.pss) {
        const pssKey = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
        return (input, signature) => cryptoVerify(hash, input, pssKey, signature);
      }
      return (input, signature) => cryptoVerify(hash, input, key, signature);
    }
  }
}

/** The JWK `kty` (RFC 7518 §6.1) an algorithm needs, used to skip unrelated JWKS entries early. */
export function keyTypeFor(alg: JwsAlgorithm): 'EC' | 'OKP' | 'RSA' {
  return specs[alg].kty;
}
