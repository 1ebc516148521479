import { createPublicKey, type JsonWebKey, type KeyObject, randomBytes } from 'node:crypto';
import { type JwsSigner, signatureCheckFor, type SigningAlgorithm } from '@mandate/protocol';
import type { SigningKeyRecord } from '../store/store.ts';
import { type ExternalKeySigner, loadExternalSigner, SigningUnavailableError } from './external-signer.ts';
import { decryptSigningKey, generateSigningKey, localSigner, signingKeyRecord } from './signing-key.ts';

/**
 * Who holds the private signing keys. The local key store (the default) keeps each one in the database, encrypted
 * under the KEK, and signs in process; an external signer (a KMS, an HSM) keeps them itself and signs on request.
 * The key ring, rotation and the JWKS work the same over either.
 */
export interface KeyCustody {
  readonly kind: 'local' | 'external';
  /** Makes a new key and its record (active from `activatesAt`). */
  generate(alg: SigningAlgorithm, now: number, activatesAt?: number): Promise<SigningKeyRecord>;
  /** The signer of a stored key that may sign (and, for a local key, its private half). */
  signing(record: SigningKeyRecord): { signer: JwsSigner; privateKey: KeyObject | null };
  close(): Promise<void>;
}

export function localKeyCustody(kek: Buffer): KeyCustody {
  return {
    kind: 'local',
    generate: (alg, now, activatesAt) => generateSigningKey(alg, kek, now, activatesAt),
    signing(record) {
      if (record.externalKeyRef !== null) {
        throw new Error(`signing key ${record.kid} is held by an external signer (${record.externalKeyRef}), and keys.externalSigner is not configured`);
      }
      const privateKey = decryptSigningKey(record, kek);
      return { signer: localSigner(record, privateKey), privateKey };
    },
    close: async () => {},
  };
}

/**
 * Keys held by an external signer. A new key is checked once, when it is made: a probe signed by the signer must
 * verify under the public key it returned, so a signer that mixes up its keys is refused before any token. Every
 * signature it makes later is taken as it comes (checking each would double the cost of a token); a failure to
 * sign is a {@link SigningUnavailableError}, answered 503. A local key still in the database (made before the
 * signer was configured) keeps signing locally until it is rotated out.
 */
export function externalKeyCustody(external: ExternalKeySigner, kek: Buffer): KeyCustody {
  const local = localKeyCustody(kek);
  return {
    kind: 'external',
    async generate(alg, now, activatesAt) {
      const made = await external.createKey(alg).catch((err: unknown) => {
        throw new SigningUnavailableError(`the external signer did not make a ${alg} key`, { cause: err });
      });
      const { keyRef, publicJwk } = made ?? {};
      if (typeof keyRef !== 'string' || keyRef.length === 0 || keyRef.length > 2000) throw new SigningUnavailableError('the external signer returned no usable keyRef');
      if (publicJwk === null || typeof publicJwk !== 'object' || 'd' in publicJwk) throw new SigningUnavailableError('the external signer must return a public JWK, never a private one');
      let check: ReturnType<typeof signatureCheckFor>;
      try {
        check = signatureCheckFor(alg, createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }));
      } catch {
        check = undefined;
      }
      if (!check) throw new SigningUnavailableError(`the external signer returned a key that is not a public ${alg} key`);
      const probe = randomBytes(32);
      const signature = await external.sign(keyRef, alg, probe).catch((err: unknown) => {
        throw new SigningUnavailableError(`the external signer did not sign with its new key ${keyRef}`, { cause: err });
      });
      if (!check(probe, Buffer.from(signature))) {
        throw new SigningUnavailableError(`the external signer's signature with ${keyRef} does not verify under the public key it returned`);
      }
      return signingKeyRecord(alg, publicJwk, { privateKeyEncrypted: () => '', externalKeyRef: keyRef }, now, activatesAt);
    },
    signing(record) {
      const keyRef = record.externalKeyRef;
      if (keyRef === null) return local.signing(record);
      const sign = async (input: Buffer): Promise<Buffer> => {
        try {
          return Buffer.from(await external.sign(keyRef, record.alg, input));
        } catch (err) {
          throw new SigningUnavailableError(`the external signer did not sign with ${keyRef}`, { cause: err });
        }
      };
      return { signer: { alg: record.alg, kid: record.kid, sign }, privateKey: null };
    },
    close: async () => external.close?.(),
  };
}

/** The custody the configuration names: the external signer's module when `keys.externalSigner` is set, else the local key store. */
export async function openKeyCustody(keys: { externalSigner?: { module: string; options: Record<string, unknown> } | undefined }, kek: Buffer): Promise<KeyCustody> {
  return keys.externalSigner ? externalKeyCustody(await loadExternalSigner(keys.externalSigner), kek) : localKeyCustody(kek);
}
