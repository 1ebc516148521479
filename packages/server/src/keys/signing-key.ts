import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { jwkThumbprint } from '@mandate/protocol';
import { type JwsSigningKey, type SignatureCheck, signatureCheckFor, type SigningAlgorithm, signatureMakerFor } from '@mandate/protocol';
import type { SigningKeyRecord } from '../store/store.ts';
import { decryptPrivateKey, encryptPrivateKey } from './kek.ts';

/** A signing key as the running server holds it: decrypted once at load, never per request. */
export interface LoadedSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  status: SigningKeyRecord['status'];
  publicKey: KeyObject;
  /** Verifies signatures of this key's algorithm only (bound at load: a token's `alg` cannot pick another). */
  verify: SignatureCheck;
  /** Only a key that signs or may still sign keeps its private half in memory (see `maySign`). */
  privateKey: KeyObject | null;
  /** That key's signer for compact JWS; null for the others. */
  signer: JwsSigningKey | null;
  /** The public JWK as published (`kid`, `alg`, `use` set). */
  publicJwk: Record<string, unknown>;
  publishUntil: number | null;
  /** When the key starts signing (SR-08: published ahead until then); its creation for keys made before that. */
  activatesAt: number;
  /** When a retired key stopped (or stops) signing. */
  retiredAt: number | null;
}

function generateKeyPair(alg: SigningAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

/** Generates a key pair; its `kid` is the RFC 7638 thumbprint, so it is stable and collision-free. */
export async function generateSigningKey(alg: SigningAlgorithm, kek: Buffer, now: number, activatesAt = now): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = generateKeyPair(alg);
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const kid = jwkThumbprint(jwk);
  if (kid === undefined) throw new Error(`no RFC 7638 thumbprint for a ${String(jwk['kty'])} key`);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    kid,
    alg,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    privateKeyEncrypted: encryptPrivateKey(kek, kid, pkcs8),
    status: 'active',
    createdAt: now,
    retiredAt: null,
    publishUntil: null,
    activatesAt,
  };
}

/** The active key, or a retired one still signing until its successor activates (a rotation published ahead). */
const maySign = (record: SigningKeyRecord, now: number): boolean => record.status === 'active' || (record.retiredAt !== null && record.retiredAt > now);

/** Decrypts and binds a stored key; a key that does not fit its recorded algorithm fails here, at load. */
export function loadSigningKey(record: SigningKeyRecord, kek: Buffer, now: number): LoadedSigningKey {
  const privateKey =
    maySign(record, now)
      ? createPrivateKey({ key: decryptPrivateKey(kek, record.kid, record.privateKeyEncrypted), format: 'der', type: 'pkcs8' })
      : null;
  const publicKey = createPublicKey({ key: record.publicJwk as JsonWebKey, format: 'jwk' });
  const verify = signatureCheckFor(record.alg, publicKey);
  if (!verify) throw new Error(`signing key ${record.kid} is not a public key for ${record.alg}`);
  return {
    kid: record.kid,
    alg: record.alg,
    status: record.status,
    publicKey,
    verify,
    privateKey,
    signer: privateKey && { alg: record.alg, kid: record.kid, sign: signatureMakerFor(record.alg, privateKey) },
    publicJwk: record.publicJwk,
    publishUntil: record.publishUntil,
    activatesAt: record.activatesAt ?? record.createdAt,
    retiredAt: record.retiredAt,
  };
}
