import { ID_TOKEN_TYP, isJwsAlgorithm, JWS_ALGORITHMS, verifyCompactJws } from '@mandate/protocol';
import type { IdTokenClaims, JwsAlgorithm, JwsRefusal } from '@mandate/protocol';
import { IdTokenInvalid, NoMatchingKey } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { RemoteKeySet } from '../verify/key-set.ts';
import { secretsEqual } from './pkce.ts';

/** What an ID token must match. */
export interface IdTokenExpectations {
  issuer: string;
  /** The client it was issued to: `aud` must contain it (and `azp`, if present, be it). */
  clientId: string;
  /** The request's `nonce`; undefined on refresh, where none is sent. */
  nonce?: string | undefined;
  /** On refresh, the `sub` of the first ID token (OpenID Connect Core §12.2). */
  subject?: string | undefined;
}

/**
 * The issuer's ID tokens, checked with the same compact-JWS verification and key set as access tokens
 * (`@mandate/protocol`, verify/key-set.ts): keys fetched on first use and again, at most every 30 s, for an unknown
 * `kid`; only asymmetric algorithms, never `none` or HS* (RFC 8725 §3.1, §3.2), and of those only the ones the
 * issuer's metadata advertises in `id_token_signing_alg_values_supported`.
 */
export class IdTokenVerifier {
  readonly #keys: RemoteKeySet;
  readonly #algorithms: () => Promise<ReadonlySet<JwsAlgorithm>>;
  readonly #clock: () => number;
  readonly #clockToleranceSeconds: number;

  constructor(jwksUri: () => Promise<string>, algorithms: () => Promise<string[] | undefined>, http: HttpOptions & { clock: () => number }, clockToleranceSeconds = 30) {
    this.#keys = new RemoteKeySet(jwksUri, { ...http, algorithms: JWS_ALGORITHMS, refetchCooldownMs: 30_000, maxAgeMs: 600_000 });
    this.#algorithms = async () => {
      const advertised = await algorithms();
      return new Set(advertised === undefined ? JWS_ALGORITHMS : advertised.filter(isJwsAlgorithm));
    };
    this.#clock = http.clock;
    this.#clockToleranceSeconds = clockToleranceSeconds;
  }

  /**
   * Validates an ID token per OpenID Connect Core §3.1.3.7: signature with the issuer's key and an allowed
   * asymmetric `alg`, a `typ` that is not an access token's (RFC 8725 §3.11: an `at+jwt` never passes as an ID
   * token), `iss`, `aud` (and `azp`), `exp`/`iat`/`nbf` within the tolerance, the `nonce` of the request, and on
   * refresh the same `sub`. Resolves with the claims; throws `ERR_ID_TOKEN_INVALID`.
   *
   * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
   */
  async verify(idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> {
    const options = {
      algorithms: await this.#algorithms(),
      typ: ID_TOKEN_TYP,
      typOptional: true,
      keyFor: (kid: string, alg: JwsAlgorithm) => this.#keys.cached(kid, alg) ?? this.#keys.resolve(kid, alg),
    };
    let jws;
    try {
      jws = await verifyCompactJws(idToken, options);
    } catch (err) {
      if (err instanceof NoMatchingKey) throw new IdTokenInvalid('signature', `the ID token is not valid: ${err.message}`, { cause: err });
      throw err;
    }
    if (!jws.ok) throw refusalError(jws);
    const claims = checkClaims(jws.payload, expected, this.#clock() / 1000, this.#clockToleranceSeconds);
    if (expected.nonce !== undefined && (typeof claims.nonce !== 'string' || !secretsEqual(claims.nonce, expected.nonce))) {
      throw new IdTokenInvalid('nonce', 'the ID token nonce is not the one of the authorization request');
    }
    if (expected.subject !== undefined && claims.sub !== expected.subject) {
      throw new IdTokenInvalid('subject', 'the refreshed ID token names another user');
    }
    return claims;
  }
}

function refusalError(refusal: JwsRefusal): IdTokenInvalid {
  switch (refusal.failure) {
    case 'typ_mismatch':
      return new IdTokenInvalid('claims', `an ID token cannot have typ ${JSON.stringify(refusal.typ)}`);
    case 'malformed':
      return new IdTokenInvalid('signature', `the ID token is not valid: ${refusal.reason}`);
    case 'alg_not_allowed':
      return new IdTokenInvalid('signature', `the ID token is not valid: algorithm ${JSON.stringify(refusal.alg)} is not allowed`);
    case 'no_kid':
    case 'unknown_key':
      return new IdTokenInvalid('signature', `the ID token is not valid: no key in the JWKS matches kid ${JSON.stringify(refusal.kid)}`);
    case 'bad_signature':
      return new IdTokenInvalid('signature', 'the ID token is not valid: signature verification failed');
  }
}

/** OpenID Connect Core §3.1.3.7 steps 2–3 and 9–10, and §2's required claims. */
function checkClaims(payload: Record<string, unknown>, expected: IdTokenExpectations, nowSeconds: number, tolerance: number): IdTokenClaims {
  const invalid = (why: string) => new IdTokenInvalid('claims', `the ID token is not valid: ${why}`);
  const { iss, sub, aud, exp, iat, nbf, azp } = payload;
  if (iss !== expected.issuer) throw invalid('iss is not the issuer');
  if (typeof sub !== 'string' || sub === '') throw invalid('sub is missing');
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string')) throw invalid('aud is missing');
  if (!audiences.includes(expected.clientId)) throw invalid('aud does not name this client');
  // §3.1.3.7 step 3: several audiences need an azp; an azp must be this client.
  if (azp !== undefined ? azp !== expected.clientId : audiences.length > 1) throw invalid('the ID token was issued to another party (azp)');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('exp is missing');
  if (nowSeconds >= exp + tolerance) throw invalid('it has expired');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat is missing');
  if (iat > nowSeconds + tolerance) throw invalid('iat is in the future');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds + tolerance)) throw invalid('it is not valid yet (nbf)');
  return payload as IdTokenClaims;
}
