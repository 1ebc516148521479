import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The key-encryption key (KEK) protects signing keys at rest: AES-256-GCM, with the key id as associated data so
 * an encrypted key cannot be moved to another record. It comes from `MANDATE_KEK`, or from a file generated with
 * mode 0600 on first start.
 */

export class KekError extends Error {
  override readonly name = 'KekError';
}

export function loadKek(options: { kek?: string | undefined; kekFile: string }): Buffer {
  if (options.kek) return decodeKek(options.kek, 'MANDATE_KEK');
  if (existsSync(options.kekFile)) {
    const mode = statSync(options.kekFile).mode & 0o777;
    if (mode & 0o077) throw new KekError(`${options.kekFile} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
    return decodeKek(readFileSync(options.kekFile, 'utf8').trim(), options.kekFile);
  }
  const kek = randomBytes(32);
  mkdirSync(dirname(options.kekFile), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(options.kekFile, `${kek.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process (a server and a CLI command started together) created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadKek(options);
    throw err;
  }
  chmodSync(options.kekFile, 0o600);
  return kek;
}

function decodeKek(value: string, source: string): Buffer {
  const kek = Buffer.from(value, 'base64url');
  if (kek.length !== 32 || kek.toString('base64url') !== value) throw new KekError(`${source} must hold 32 bytes, base64url-encoded`);
  return kek;
}

const VERSION = 'v1';

export function encryptPrivateKey(kek: Buffer, kid: string, pkcs8Der: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid));
  const ciphertext = Buffer.concat([cipher.update(pkcs8Der), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
}

export function decryptPrivateKey(kek: Buffer, kid: string, encrypted: string): Buffer {
  const [version, body] = encrypted.split('.');
  if (version !== VERSION || !body) throw new KekError(`signing key ${kid}: unknown encryption format`);
  const bytes = Buffer.from(body, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(kid));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  } catch {
    throw new KekError(`signing key ${kid} does not decrypt with this key-encryption key (MANDATE_KEK or the KEK file)`);
  }
}

/** The key revocation-webhook secrets are encrypted under (derived from the KEK, so the same on every instance). */
export function deriveWebhookSecretKey(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'mandate revocation webhook secret v1', 32));
}

/**
 * The key RFC 8628 user codes are stored under (HMAC-SHA-256; derived from the KEK, so the same on every instance).
 * A user code has only ~34.6 bits: stored as a plain hash, a leaked database would give up every pending code in a
 * few minutes of hashing; without the KEK there is nothing to try them against.
 */
export function deriveUserCodeKey(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'mandate device user code v1', 32));
}
