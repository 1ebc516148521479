import type { SigningAlgorithm } from '@mandate/protocol';

export type SigningKeyStatus = 'active' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: Record<string, unknown>;
  /** The PKCS#8 private key, encrypted under the key-encryption key (`keys/kek.ts`); empty for an external key. */
  privateKeyEncrypted: string;
  /** The external signer's name for the key (a KMS key id, an HSM label); null for a key of the local key store. */
  externalKeyRef: string | null;
  status: SigningKeyStatus;
  createdAt: number;
  retiredAt: number | null;
  /** A retired key stays in the JWKS until every token it signed has expired. */
  publishUntil: number | null;
  /** When the key starts signing (SR-08: it is published before); null: from its creation. */
  activatesAt: number | null;
}

export interface SigningKeyRecords {
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts the key as the active one unless an active key exists already (first start, possibly racing). */
  insertFirstActiveKey(record: SigningKeyRecord): Promise<boolean>;
  /**
   * Atomically retires the active key (signing until `retiredAt`, published until `publishUntil`) and makes
   * `record` active (signing from its `activatesAt`). False, changing nothing, when the active key has not started
   * signing at `now` yet: one rotation at a time. With `onlyIfActiveCreatedBefore`, also false when the active key
   * was created at or after it: a scheduled rotation that another instance already made.
   */
  rotateActiveKey(record: SigningKeyRecord, retiredAt: number, publishUntil: number, now: number, onlyIfActiveCreatedBefore?: number): Promise<boolean>;
}
