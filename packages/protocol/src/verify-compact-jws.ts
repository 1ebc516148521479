import { isJwsAlgorithm } from './algorithms.ts';
import type { JwsAlgorithm, SignatureCheck } from './algorithms.ts';
import { parseCompactJws } from './parse-compact-jws.ts';
import type { MalformedJws, ParsedJws } from './parse-compact-jws.ts';

/** What a compact JWS must satisfy, and where its key comes from. */
export interface JwsVerifyOptions {
  /** The algorithms accepted. Any other `alg` (including `none` and HS*, which no option can name) is refused. */
  algorithms: ReadonlySet<JwsAlgorithm>;
  /** The media type the `typ` header must name, e.g. `at+jwt`; compared as {@link normalizeTyp} says. */
  typ: string;
  /** Also accept a JWS without `typ` (OpenID Connect Core §2 does not require one on ID tokens). Default false. */
  typOptional?: boolean;
  /**
   * The signature check bound to the key named `kid` for `alg` (see `signatureCheckFor`), or undefined when there is
   * no such key or it is not a key for `alg`. The key comes from here alone: `jwk`, `jku`, `x5u` and `x5c` header
   * parameters are never followed (RFC 8725 §3.10). May be async, and may throw (a JWKS that cannot be fetched).
   */
  keyFor(kid: string, alg: JwsAlgorithm): SignatureCheck | undefined | Promise<SignatureCheck | undefined>;
}

/** A JWS whose structure, algorithm, type and signature were verified. Its claims are not checked yet. */
export interface VerifiedJws extends ParsedJws {
  kid: string;
  alg: JwsAlgorithm;
}

/** Why a JWS was refused, with the offending header value where there is one (for the caller's error). */
export type JwsRefusal =
  | MalformedJws
  | { ok: false; failure: 'alg_not_allowed'; alg: unknown }
  | { ok: false; failure: 'typ_mismatch'; typ: unknown }
  | { ok: false; failure: 'no_kid'; kid: unknown }
  | { ok: false; failure: 'unknown_key'; kid: string }
  | { ok: false; failure: 'bad_signature' };

/**
 * RFC 7515 §4.1.9: `typ` is a media type, so compared without regard to case, and `application/` may be left out.
 * `application/AT+JWT` and `at+jwt` are the same type.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice(12) : lower;
}

/**
 * Verifies a compact JWS (RFC 7515 §5.2), checks in this order: three base64url parts with JSON header and payload;
 * `alg` among the accepted asymmetric algorithms (RFC 8725 §3.1); `typ` (RFC 8725 §3.11); no `crit` (RFC 7515
 * §4.1.11: this verifier understands no extension); a `kid`; a key for that `kid` and `alg`; the signature.
 * Resolves with the decoded parts, or with the first check that failed. Claims are the caller's to check.
 */
export async function verifyCompactJws(token: string, options: JwsVerifyOptions): Promise<VerifiedJws | JwsRefusal> {
  const jws = parseCompactJws(token);
  if (!jws.ok) return jws;
  const { alg, typ, kid } = jws.header;
  if (!isJwsAlgorithm(alg) || !options.algorithms.has(alg)) return { ok: false, failure: 'alg_not_allowed', alg };
  if (typ === undefined ? options.typOptional !== true : typeof typ !== 'string' || normalizeTyp(typ) !== normalizeTyp(options.typ)) {
    return { ok: false, failure: 'typ_mismatch', typ };
  }
  if (jws.header['crit'] !== undefined) return { ok: false, failure: 'malformed', reason: 'the JWS has critical header parameters' };
  if (typeof kid !== 'string' || kid === '') return { ok: false, failure: 'no_kid', kid };
  // Keys found in memory answer synchronously: no await on the hot path.
  const found = options.keyFor(kid, alg);
  const check = found instanceof Promise ? await found : found;
  if (check === undefined) return { ok: false, failure: 'unknown_key', kid };
  if (!check(jws.signingInput, jws.signature)) return { ok: false, failure: 'bad_signature' };
  return { ok: true, header: jws.header, payload: jws.payload, signingInput: jws.signingInput, signature: jws.signature, kid, alg };
}
