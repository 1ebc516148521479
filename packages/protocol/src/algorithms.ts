import { constants, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ecdsaDerToJose, ecdsaJoseToDer } from './ecdsa-signature.ts';

/**
 * The asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) Mandate can verify. `none` and the HMAC algorithms
 * are absent on purpose: with a public key taken as the "secret" anyone can forge HS256 tokens (RFC 8725 §2.1), and
 * `none` is forbidden for access tokens (RFC 9068 §4). There is no way to ask this module for either.
 */
export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

/** The algorithms a Mandate authorization server signs with: ES256 (default), EdDSA (Ed25519) and RS256. */
export type SigningAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

/** {@link SigningAlgorithm} as a list, default first: the configuration's choices and a verifier's default. */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const satisfies readonly SigningAlgorithm[];

/** Checks a signature over the JWS signing input, with the key and algorithm it was built for. */
export type SignatureCheck = (signingInput: Buffer, signature: Buffer) => boolean;

/** Signs JWS signing input with the key and algorithm it was built for; returns the JWS signature bytes. */
export type SignatureMaker = (signingInput: Buffer) => Buffer;

interface AlgorithmSpec {
  kty: 'EC' | 'OKP' | 'RSA';
  /** Node's name of the EC curve the key must be on (`asymmetricKeyDetails.namedCurve`). */
  nodeCurve?: string;
  hash: string | null;
  /** Size in bytes of R and of S for ECDSA (RFC 7518 §3.4). */
  ecSize?: number;
  pss?: boolean;
}

const specs: Record<JwsAlgorithm, AlgorithmSpec> = {
  ES256: { kty: 'EC', nodeCurve: 'prime256v1', hash: 'sha256', ecSize: 32 },
  ES384: { kty: 'EC', nodeCurve: 'secp384r1', hash: 'sha384', ecSize: 48 },
  ES512: { kty: 'EC', nodeCurve: 'secp521r1', hash: 'sha512', ecSize: 66 },
  EdDSA: { kty: 'OKP', hash: null },
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
};

/** Every {@link JwsAlgorithm}, for allow-lists that take "any asymmetric algorithm" (ID tokens of an issuer). */
export const JWS_ALGORITHMS = Object.keys(specs) as readonly JwsAlgorithm[];

/** True when `alg` names an asymmetric JWS algorithm this module supports; never for `none` or HS*. */
export function isJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(specs, alg);
}

/** The JWK `kty` (RFC 7518 §6.1) an algorithm needs, used to skip unrelated JWKS entries early. */
export function keyTypeFor(alg: JwsAlgorithm): 'EC' | 'OKP' | 'RSA' {
  return specs[alg].kty;
}

/** Whether `key` (public or private) has the type, curve and size `alg` requires (RSA: ≥ 2048 bits, RFC 7518 §3.3). */
function fits(alg: JwsAlgorithm, key: KeyObject): boolean {
  const spec = specs[alg];
  const details = key.asymmetricKeyDetails ?? {};
  switch (spec.kty) {
    case 'EC':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === spec.nodeCurve;
    case 'OKP':
      return key.asymmetricKeyType === 'ed25519';
    case 'RSA':
      return key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048;
  }
}

/**
 * A signature check bound to the public `key` for `alg`, or undefined when the key cannot be used with that
 * algorithm (wrong key type or curve, an RSA key under 2048 bits, a private or secret key). Binding the algorithm to
 * the key here is what stops algorithm confusion (RFC 8725 §3.1): a token's `alg` can only select a check that was
 * built for that key's type, and an RSA key never verifies an ECDSA or HMAC signature.
 */
export function signatureCheckFor(alg: JwsAlgorithm, key: KeyObject): SignatureCheck | undefined {
  if (!isJwsAlgorithm(alg) || key.type !== 'public' || !fits(alg, key)) return undefined;
  const spec = specs[alg];
  const hash = spec.hash;
  switch (spec.kty) {
    case 'EC': {
      const size = spec.ecSize as number;
      return (input, signature) => {
        const der = ecdsaJoseToDer(signature, size);
        return der !== undefined && cryptoVerify(hash, input, key, der);
      };
    }
    case 'OKP':
      return (input, signature) => signature.length === 64 && cryptoVerify(null, input, key, signature);
    case 'RSA': {
      if (spec.pss) {
        const pssKey = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
        return (input, signature) => cryptoVerify(hash, input, pssKey, signature);
      }
      return (input, signature) => cryptoVerify(hash, input, key, signature);
    }
  }
}

/**
 * A signer bound to the private `key` for one of the algorithms Mandate issues with. A key that does not fit the
 * algorithm is a configuration error, thrown as a TypeError when the key is loaded, never at signing time.
 *
 * ES256 signs to DER with `crypto.sign` and converts to R ‖ S in JS (see ecdsa-signature.ts for why).
 */
export function signatureMakerFor(alg: SigningAlgorithm, key: KeyObject): SignatureMaker {
  if (!SIGNING_ALGORITHMS.includes(alg) || key.type !== 'private' || !fits(alg, key)) {
    throw new TypeError(`the key cannot sign ${String(alg)}: it must be a private ${specs[alg]?.kty ?? 'asymmetric'} key of the algorithm's type and size`);
  }
  switch (alg) {
    case 'ES256':
      return (input) => ecdsaDerToJose(cryptoSign('sha256', input, key), 32);
    case 'EdDSA':
      return (input) => cryptoSign(null, input, key);
    case 'RS256':
      return (input) => cryptoSign('sha256', input, key);
  }
}
