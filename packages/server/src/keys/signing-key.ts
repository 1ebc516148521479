import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type JwsSigner, jwkThumbprint, type SignatureCheck, signatureCheckFor, type SigningAlgorithm, signatureMakerFor } from '@mandate/protocol';
import type { SigningKeyRecord } from '../store/store.ts';
import type { KeyCustody } from './key-custody.ts';
import { decryptPrivateKey, encryptPrivateKey } from './kek.ts';

/** A signing key as the running server holds it: decrypted once at load (or bound to its external signer), never per request. */
export interface LoadedSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  status: SigningKeyRecord['status'];
  publicKey: KeyObject;
  /** Verifies signatures of this key's algorithm only (bound at load: a token's `alg` cannot pick another). */
  verify: SignatureCheck;
  /** A local key that signs or may still sign keeps its private half in memory (see `maySign`); never an external one. */
  privateKey: KeyObject | null;
  /** That key's signer for compact JWS (local, or asking the external signer); null for keys that no longer sign. */
  signer: JwsSigner | null;
  /** The public JWK as published (`kid`, `alg`, `use` set). */
  publicJwk: Record<string, unknown>;
  publishUntil: number | null;
  /** When the key was made (a scheduled rotation counts from it). */
  createdAt: number;
  /** When the key starts signing (SR-08: published ahead until then); its creation for keys made before that. */
  activatesAt: number;
  /** When a retired key stopped (or stops) signing. */
  retiredAt: number | null;
}

export function generateKeyPair(alg: SigningAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

/** The record of a new key from its public half; its `kid` is the RFC 7638 thumbprint, so it is stable and collision-free. */
export async function signingKeyRecord(
  alg: SigningAlgorithm,
  publicJwk: Record<string, unknown>,
  custody: { privateKeyEncrypted: (kid: string) => string; externalKeyRef: string | null },
  now: number,
  activatesAt = now,
): Promise<SigningKeyRecord> {
  const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ...members } = publicJwk;
  const kid = jwkThumbprint(members);
  if (kid === undefined) throw new Error(`no RFC 7638 thumbprint for a ${String(members['kty'])} key`);
  return {
    kid,
    alg,
    publicJwk: { ...members, kid, alg, use: 'sig' },
    privateKeyEncrypted: custody.privateKeyEncrypted(kid),
    externalKeyRef: custody.externalKeyRef,
    status: 'active',
    createdAt: now,
    retiredAt: null,
    publishUntil: null,
    activatesAt,
  };
}

/** Generates a key pair in the local key store: the private key encrypted under the KEK. */
export async function generateSigningKey(alg: SigningAlgorithm, kek: Buffer, now: number, activatesAt = now): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = generateKeyPair(alg);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return signingKeyRecord(alg, jwk, { privateKeyEncrypted: (kid) => encryptPrivateKey(kek, kid, pkcs8), externalKeyRef: null }, now, activatesAt);
}

/** The private half of a local key, for a key that may sign. */
export function decryptSigningKey(record: SigningKeyRecord, kek: Buffer): KeyObject {
  return createPrivateKey({ key: decryptPrivateKey(kek, record.kid, record.privateKeyEncrypted), format: 'der', type: 'pkcs8' });
}

/** A local private key's signer. */
export const localSigner = (record: SigningKeyRecord, privateKey: KeyObject): JwsSigner => ({ alg: record.alg, kid: record.kid, sign: signatureMakerFor(record.alg, privateKey) });

/** The active key, or a retired one still signing until its successor activates (a rotation published ahead). */
const maySign = (record: SigningKeyRecord, now: number): boolean => record.status === 'active' || (record.retiredAt !== null && record.retiredAt > now);

/** Binds a stored key to its custody; a key that does not fit its recorded algorithm fails here, at load. */
export function loadSigningKey(record: SigningKeyRecord, custody: KeyCustody, now: number): LoadedSigningKey {
  const signing = maySign(record, now) ? custody.signing(record) : null;
  const publicKey = createPublicKey({ key: record.publicJwk as JsonWebKey, format: 'jwk' });
  const verify = signatureCheckFor(record.alg, publicKey);
  if (!verify) throw new Error(`signing key ${record.kid} is not a public key for ${record.alg}`);
  return {
    kid: record.kid,
    alg: record.alg,
    status: record.status,
    publicKey,
    verify,
    privateKey: signing?.privateKey ?? null,
    signer: signing?.signer ?? null,
    publicJwk: record.publicJwk,
    publishUntil: record.publishUntil,
    createdAt: record.createdAt,
    activatesAt: record.activatesAt ?? record.createdAt,
    retiredAt: record.retiredAt,
  };
}
