import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { IdTokenInvalid, JwksFetchFailed } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { secretsEqual } from './pkce.ts';

/** Asymmetric JWS algorithms an ID token may use; `none` and HS* are never accepted (RFC 8725 §3.1, §3.2). */
const ASYMMETRIC = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

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

/** The issuer's JWKS for ID tokens, fetched on first use and again (at most every 30 s) for an unknown `kid`. */
export class IdTokenVerifier {
  readonly #jwksUri: () => Promise<string>;
  readonly #algorithms: () => Promise<string[]>;
  readonly #http: HttpOptions & { clock: () => number };
  readonly #clockToleranceSeconds: number;
  #keys: Promise<ReturnType<typeof createLocalJWKSet>> | undefined;
  #loadedAtMs = -Infinity;

  constructor(jwksUri: () => Promise<string>, algorithms: () => Promise<string[] | undefined>, http: HttpOptions & { clock: () => number }, clockToleranceSeconds = 30) {
    this.#jwksUri = jwksUri;
    this.#algorithms = async () => {
      const advertised = await algorithms();
      return advertised === undefined ? ASYMMETRIC : advertised.filter((alg) => ASYMMETRIC.includes(alg));
    };
    this.#http = http;
    this.#clockToleranceSeconds = clockToleranceSeconds;
  }

  /**
   * Validates an ID token per OpenID Connect Core §3.1.3.7: signature with the issuer's key and an allowed
   * asymmetric `alg`, `iss`, `aud` (and `azp`), `exp`/`iat` within the tolerance, the `nonce` of the request, and
   * a `typ` that is not an access token's (RFC 8725 §3.11: an `at+jwt` never passes as an ID token).
   * Resolves with the claims; throws `ERR_ID_TOKEN_INVALID`.
   *
   * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
   */
  async verify(idToken: string, expected: IdTokenExpectations): Promise<JWTPayload> {
    const algorithms = await this.#algorithms();
    const options = {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      currentDate: new Date(this.#http.clock()),
      clockTolerance: this.#clockToleranceSeconds,
    };
    let verified;
    try {
      try {
        verified = await jwtVerify(idToken, await this.#keySet(false), options);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        verified = await jwtVerify(idToken, await this.#keySet(true), options);
      }
    } catch (err) {
      if (err instanceof JwksFetchFailed) throw err;
      const claimFailure = err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired;
      throw new IdTokenInvalid(claimFailure ? 'claims' : 'signature', `the ID token is not valid: ${(err as Error).message}`, { cause: err });
    }
    const { payload, protectedHeader } = verified;
    const typ = typeof protectedHeader.typ === 'string' ? protectedHeader.typ.toLowerCase().replace(/^application\//, '') : undefined;
    if (typ !== undefined && typ !== 'jwt') throw new IdTokenInvalid('claims', `an ID token cannot have typ ${protectedHeader.typ}`);
    const audiences = [payload.aud].flat();
    if (payload['azp'] !== undefined ? payload['azp'] !== expected.clientId : audiences.length > 1) {
      throw new IdTokenInvalid('claims', 'the ID token was issued to another party (azp)');
    }
    if (expected.nonce !== undefined && (typeof payload['nonce'] !== 'string' || !secretsEqual(payload['nonce'], expected.nonce))) {
      throw new IdTokenInvalid('nonce', 'the ID token nonce is not the one of the authorization request');
    }
    if (expected.subject !== undefined && payload.sub !== expected.subject) {
      throw new IdTokenInvalid('subject', 'the refreshed ID token names another user');
    }
    return payload;
  }

  /** The key set; `reload` fetches it again unless it was fetched less than 30 s ago. */
  async #keySet(reload: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    const now = this.#http.clock();
    if (this.#keys === undefined || (reload && now - this.#loadedAtMs > 30_000)) {
      this.#loadedAtMs = now;
      const loading = this.#load();
      this.#keys = loading;
      loading.catch(() => {
        if (this.#keys === loading) this.#keys = undefined;
      });
    }
    return this.#keys;
  }

  async #load(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const uri = await this.#jwksUri();
    let answer;
    try {
      answer = await fetchJson(uri, { headers: { accept: 'application/jwk-set+json, application/json' } }, this.#http);
    } catch (cause) {
      throw new JwksFetchFailed(`could not fetch ${uri}`, { cause });
    }
    if (answer.status !== 200 || !isJsonObject(answer.json) || !Array.isArray(answer.json['keys'])) {
      throw new JwksFetchFailed(`${uri} answered ${answer.status} without a JWK Set`);
    }
    return createLocalJWKSet(answer.json as unknown as JSONWebKeySet);
  }
}
