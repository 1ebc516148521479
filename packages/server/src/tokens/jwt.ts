import {
  encodeCompactJwsWith,
  type JwsAlgorithm,
  type JwsRefusal,
  type SignatureCheck,
  SIGNING_ALGORITHMS,
  verifyCompactJws,
} from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import type { LoadedSigningKey } from '../keys/signing-key.ts';

/**
 * The tokens Mandate signs and later reads back (access tokens, ID tokens, actor tokens), bound to the key ring.
 * Compact JWS itself is `@mandate/protocol`'s, over node:crypto, because this is the hot path of the token and
 * introspection endpoints; tokens from other issuers (client assertions, upstream ID tokens) go through `jose`.
 */

/**
 * Signs `claims` as a compact JWS with the given key and `typ` header: in process for a key of the local key store,
 * through the external signer for one held there (`keys/key-custody.ts`).
 */
export function encodeJwt(key: LoadedSigningKey, typ: string, claims: object): Promise<string> {
  if (!key.signer) throw new Error(`signing key ${key.kid} has no private key loaded`);
  return encodeCompactJwsWith(key.signer, typ, claims);
}

export type JwtFailure = JwsRefusal['failure'] | 'wrong_issuer' | 'expired' | 'not_yet_valid';

export type VerifiedJwt = { ok: true; kid: string; claims: Record<string, unknown> } | { ok: false; failure: JwtFailure };

export interface OwnJwtExpectations {
  /** The `typ` header, e.g. `at+jwt` (compared as a media type: `application/at+jwt` is the same). */
  typ: string;
  issuer: string;
  now: number;
  clockSkewSeconds: number;
}

const ISSUED_ALGORITHMS: ReadonlySet<JwsAlgorithm> = new Set(SIGNING_ALGORITHMS);

/** The key's check when `alg` is the key's own algorithm: the algorithm is the key's, never the header's choice. */
const checkOf = (key: LoadedSigningKey | undefined, alg: JwsAlgorithm): SignatureCheck | undefined =>
  key !== undefined && key.alg === alg ? key.verify : undefined;

/**
 * Verifies a token this server signed: structure, an algorithm we issue (never `none`, never a MAC), `typ`, a `kid`
 * in our key ring whose algorithm is the header's (RFC 8725 §3.1), the signature, then `iss`, `exp` and `nbf`.
 * Returns the claims or why not.
 */
export async function verifyOwnJwt(token: string, ring: KeyRing, expect: OwnJwtExpectations): Promise<VerifiedJwt> {
  const jws = await verifyCompactJws(token, {
    algorithms: ISSUED_ALGORITHMS,
    typ: expect.typ,
    keyFor: (kid, alg) => {
      const key = ring.verificationKey(kid);
      return key !== undefined ? checkOf(key, alg) : ring.verificationKeyOrReload(kid).then((reloaded) => checkOf(reloaded, alg));
    },
  });
  if (!jws.ok) return { ok: false, failure: jws.failure };
  const claims = jws.payload;
  if (claims['iss'] !== expect.issuer) return { ok: false, failure: 'wrong_issuer' };
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || exp + expect.clockSkewSeconds <= expect.now) return { ok: false, failure: 'expired' };
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - expect.clockSkewSeconds > expect.now)) return { ok: false, failure: 'not_yet_valid' };
  return { ok: true, kid: jws.kid, claims };
}
