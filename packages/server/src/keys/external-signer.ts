import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SigningAlgorithm } from '@mandate/protocol';

/**
 * A signer that holds Mandate's private signing keys outside it: a cloud KMS, an HSM, a signing service. Mandate
 * keeps only each key's public JWK and the signer's name for it (`keyRef`), asks the signer to sign every token,
 * and never sees a private key. An implementation is a module whose `createKeySigner(options)` returns this;
 * `keys.externalSigner` names the module and its options (docs/deployment.md, "Signing keys in a KMS or HSM").
 */
export interface ExternalKeySigner {
  /** Creates a key pair of `alg` in the signer; returns the signer's reference to it and the public key as a JWK. */
  createKey(alg: SigningAlgorithm): Promise<{ keyRef: string; publicJwk: Record<string, unknown> }>;
  /**
   * Signs `input` (a JWS signing input) with the key; resolves to the JWS signature as RFC 7518 defines it (for
   * ES256 the 64 bytes R ‖ S, not DER). Rejects when the signer cannot be reached or refuses.
   */
  sign(keyRef: string, alg: SigningAlgorithm, input: Uint8Array): Promise<Uint8Array>;
  /** Releases connections when the server stops. */
  close?(): Promise<void>;
}

/** The module `keys.externalSigner.module` names must export this. */
export type CreateKeySigner = (options: Record<string, unknown>) => ExternalKeySigner | Promise<ExternalKeySigner>;

/**
 * The external signer failed (unreachable, refusing, or making a key whose signatures do not verify). The request
 * that needed it is answered 503 with `Retry-After` and gets no token; at start, the server does not start.
 */
export class SigningUnavailableError extends Error {
  override readonly name = 'SigningUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Imports the configured module (a path, relative to the working directory, or a package name) and creates its signer. */
export async function loadExternalSigner(config: { module: string; options: Record<string, unknown> }): Promise<ExternalKeySigner> {
  const specifier = config.module.startsWith('.') || isAbsolute(config.module) ? pathToFileURL(resolve(config.module)).href : config.module;
  const imported = (await import(specifier)) as { createKeySigner?: unknown };
  if (typeof imported.createKeySigner !== 'function') {
    throw new Error(`keys.externalSigner.module ${config.module} does not export a createKeySigner(options) function`);
  }
  const signer = (await (imported.createKeySigner as CreateKeySigner)(config.options)) as Partial<ExternalKeySigner> | null;
  if (!signer || typeof signer.createKey !== 'function' || typeof signer.sign !== 'function') {
    throw new Error(`keys.externalSigner.module ${config.module}: createKeySigner must return an object with createKey(alg) and sign(keyRef, alg, input)`);
  }
  return signer as ExternalKeySigner;
}
