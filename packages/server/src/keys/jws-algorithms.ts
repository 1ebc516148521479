import { type KeyObject, sign, verify } from 'node:crypto';
import type { SigningAlgorithm } from '../store/store.ts';
import { derToJoseSignature, joseToDerSignature } from './ecdsa-signature.ts';

/** Signs and verifies JWS signing input with node:crypto for the three algorithms Mandate issues (RFC 7518, RFC 8037). */
export interface JwsAlgorithm {
  sign(privateKey: KeyObject, signingInput: Buffer): Buffer;
  verify(publicKey: KeyObject, signingInput: Buffer, signature: Buffer): boolean;
}

export const jwsAlgorithms: Record<SigningAlgorithm, JwsAlgorithm> = {
  ES256: {
    sign: (key, input) => derToJoseSignature(sign('sha256', input, key), 32),
    verify(key, input, signature) {
      const der = joseToDerSignature(signature, 32);
      return der !== null && verify('sha256', input, key, der);
    },
  },
  EdDSA: {
    sign: (key, input) => sign(null, input, key),
    verify: (key, input, signature) => signature.length === 64 && verify(null, input, key, signature),
  },
  RS256: {
    sign: (key, input) => sign('sha256', input, key),
    verify: (key, input, signature) => verify('sha256', input, key, signature),
  },
};

export function isSigningAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return alg === 'ES256' || alg === 'EdDSA' || alg === 'RS256';
}
