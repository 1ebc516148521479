import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * User passwords, hashed with scrypt (RFC 7914) in a PHC-style string that carries its parameters, so they can be
 * raised later without breaking stored hashes: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url). N = 2^15, r = 8
 * (32 MiB, about 50–100 ms per hash) follows the OWASP password-storage minimum for scrypt. Comparison is
 * constant-time.
 */

const CURRENT = { ln: 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{22,})\$([A-Za-z0-9_-]{43})$/;
/** Longest password accepted; longer input is refused rather than hashed (it would only cost us time). */
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, params: { ln: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, CURRENT);
  return `$scrypt$ln=${CURRENT.ln},r=${CURRENT.r},p=${CURRENT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of a random password, verified against when the account does not exist so both cases take as long. */
let dummyHash: Promise<string> | undefined;
function dummy(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('base64url'));
  return dummyHash;
}

/**
 * Checks a password against a stored hash, or against a dummy hash when there is none (unknown account, or an
 * account without a password), so response time does not tell which accounts exist.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const match = FORMAT.exec(stored ?? (await dummy()));
  if (!match || password.length > MAX_PASSWORD_LENGTH) {
    await derive(password.slice(0, MAX_PASSWORD_LENGTH), randomBytes(16), CURRENT);
    return false;
  }
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.ln > 20 || params.r > 32 || params.p > 16) return false;
  const key = await derive(password, Buffer.from(match[4]!, 'base64url'), params);
  const ok = timingSafeEqual(key, Buffer.from(match[5]!, 'base64url'));
  return ok && stored !== null;
}

/** Whether a stored hash uses weaker parameters than today's (re-hash it at the next successful login). */
export function needsRehash(stored: string): boolean {
  const match = FORMAT.exec(stored);
  return !match || Number(match[1]) < CURRENT.ln || Number(match[2]) < CURRENT.r;
}
