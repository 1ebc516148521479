import { ACCESS_TOKEN_TYP, isJwsAlgorithm, JWS_ALGORITHMS, SIGNING_ALGORITHMS, verifyCompactJws } from '@mandate/protocol';
import type { JwsAlgorithm, JwsRefusal } from '@mandate/protocol';
import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import {
  AlgorithmNotAllowed,
  InsufficientScope,
  MetadataInvalid,
  NoMatchingKey,
  SignatureInvalid,
  TokenInactive,
  TokenMalformed,
  TokenTypeInvalid,
} from '../errors.ts';
import type { MandateError } from '../errors.ts';
import { dpopPresentationCheck, type DpopVerifyOptions, type PresentedRequest } from '../dpop/verify-presentation.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier, isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { buildAuthInfo } from './auth-info.ts';
import { checkDelegationPolicy, type DelegationPolicy, verifyDelegation } from './delegation.ts';
import type { AuthInfo } from './auth-info.ts';
import { validateClaims } from './claims.ts';
import { Introspector } from './introspection.ts';
import type { IntrospectionOptions } from './introspection.ts';
import { RemoteKeySet } from './key-set.ts';
import type { RevocationSubscriber } from './revocation-subscriber.ts';

/** Options of {@link createVerifier}. */
export interface VerifierOptions extends HttpOptions {
  /** The authorization server's issuer identifier, exactly as its metadata states it (RFC 8414 §3.3). */
  issuer: string;
  /** This resource's canonical URI (RFC 8707 §2), or several; a token's `aud` must contain one, compared exactly. */
  audience: string | readonly string[];
  /** Asymmetric JWS algorithms to accept. Default `['ES256', 'EdDSA', 'RS256']`. */
  algorithms?: readonly JwsAlgorithm[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in seconds. Default 30, at most 300. */
  clockToleranceSeconds?: number;
  /** Current time in milliseconds since the epoch. Default `Date.now`; tests inject their own. */
  clock?: () => number;
  /** Least time between two JWKS fetches caused by unknown `kid`s, in seconds. Default 30. */
  jwksRefetchCooldownSeconds?: number;
  /** Age after which the JWKS is refetched even when every `kid` is known, in seconds. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** Also ask the introspection endpoint (RFC 7662) about each token, for resources that must honour revocation. */
  introspection?: IntrospectionOptions;
  /** How DPoP proofs are checked for DPoP-bound tokens (RFC 9449 §7): replay cache, nonces, public origin. */
  dpop?: DpopVerifyOptions;
  /** This resource's delegation-chain policy, checked on every token ({@link verifyDelegation}). */
  delegation?: DelegationPolicy;
  /**
   * A subscription to the server's revocation events ({@link subscribeRevocations}): a token of a revoked chain
   * (its `jti`, its grant, or a party cut after it was issued) is refused with TokenInactive, without introspection.
   * A `RevocationState` (webhooks) fits too. When it has `assertNotRevoked` (both do), that is called instead of
   * `isRevoked`, so that a token it can no longer vouch for (past `maxEntries`) is introspected or refused.
   */
  revocations?: Pick<RevocationSubscriber, 'isRevoked'> & Partial<Pick<RevocationSubscriber, 'assertNotRevoked'>>;
}

/** Per-call options of {@link Verifier.verify}. */
export interface VerifyOptions {
  /** Scopes the token must all carry; otherwise {@link InsufficientScope} (RFC 6750 §3.1). */
  requiredScopes?: readonly string[];
  /**
   * The request the token came with: its `Authorization` scheme, `DPoP` proof, method and URL. Every middleware
   * passes it. Without it a DPoP-bound token is refused, since its proof cannot be checked.
   */
  request?: PresentedRequest;
}

/** A configured access-token verifier for one resource. */
export interface Verifier {
  readonly issuer: string;
  /** The resource identifiers a token's `aud` may name; the first is the canonical one. */
  readonly audience: readonly string[];
  /** The DPoP proof algorithms accepted, for the `algs` of a `DPoP` challenge (RFC 9449 §7.1). */
  readonly dpopAlgorithms?: readonly JwsAlgorithm[];
  /** Whether only DPoP-bound tokens are accepted (`dpop.required`): a 401 then offers the `DPoP` scheme alone. */
  readonly dpopRequired?: boolean;
  /**
   * Verifies a JWT access token per RFC 9068 §4 and returns what it says. Rejects with a coded
   * {@link MandateError} for any token that fails a check.
   */
  verify(token: string, options?: VerifyOptions): Promise<AuthInfo>;
}

/**
 * Creates a verifier of Mandate access tokens (RFC 9068 JWTs) for one resource server. It discovers the issuer's
 * metadata (RFC 8414) and JWKS on first use, then verifies locally with cached node `KeyObject`s.
 *
 * Checks, in order: compact JWS form; `alg` among the configured asymmetric algorithms (never `none` or HS*);
 * `typ` is `at+jwt` (RFC 9068 §4); the key is found by `kid` in the issuer's JWKS only (`jku`, `x5u`, `jwk` and
 * `x5c` headers are ignored); signature; `iss`; `aud`; `exp`/`nbf`/`iat` within the clock tolerance; required
 * claims; revocation events when subscribed; the presentation the token's binding requires (a DPoP-bound token only
 * with the `DPoP` scheme and a valid proof for the request, RFC 9449 §7; see `dpop/verify-presentation.ts`);
 * introspection when configured;
 * required scopes.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://as.example.com', audience: 'https://mcp.example.com/mcp' });
 * const auth = await verifier.verify(token, { requiredScopes: ['files:read'] });
 * auth.subject; auth.agentId; auth.actors;
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const config = checkOptions(options);
  const delegation = options.delegation === undefined ? undefined : checkDelegationPolicy(options.delegation);
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const metadata = cachedMetadata(config.issuer, http);
  const endpoint = (member: 'jwks_uri' | 'introspection_endpoint') => async () => {
    const value = (await metadata())[member];
    if (!isAcceptableEndpoint(value)) throw new MetadataInvalid(member);
    return value;
  };
  const keySet = new RemoteKeySet(endpoint('jwks_uri'), {
    ...http,
    algorithms: config.algorithms,
    refetchCooldownMs: config.cooldownSeconds * 1000,
    maxAgeMs: config.maxAgeSeconds * 1000,
    clock: config.clock,
  });
  const introspector =
    options.introspection === undefined
      ? undefined
      : new Introspector(endpoint('introspection_endpoint'), options.introspection, {
          http,
          clock: config.clock,
          issuer: config.issuer,
        });
  const checkPresentation = dpopPresentationCheck(options.dpop ?? {}, config.audiences[0]!);
  const jwsOptions = {
    algorithms: new Set(config.algorithms),
    typ: ACCESS_TOKEN_TYP,
    keyFor: (kid: string, alg: JwsAlgorithm) => keySet.cached(kid, alg) ?? keySet.resolve(kid, alg),
  };

  async function verify(token: string, verifyOptions: VerifyOptions = {}): Promise<AuthInfo> {
    if (typeof token !== 'string') throw new TypeError('token must be a string');
    const required = verifyOptions.requiredScopes ?? [];
    const jws = await verifyCompactJws(token, jwsOptions);
    if (!jws.ok) throw refusalError(jws);
    const { claims, audience, scopes: claimedScopes } = validateClaims(jws.payload, {
      issuer: config.issuer,
      audiences: config.audiences,
      nowSeconds: config.clock() / 1000,
      clockToleranceSeconds: config.toleranceSeconds,
    });
    const revocations = options.revocations;
    // With introspection configured, every token is asked about anyway: the revocation state only saves a request.
    const revocationCheck = revocations?.assertNotRevoked !== undefined && introspector === undefined ? revocations.assertNotRevoked(token, claims) : undefined;
    if (revocationCheck === undefined && revocations?.isRevoked(claims)) throw new TokenInactive();
    let current = await revocationCheck;
    await checkPresentation(token, claims.cnf, verifyOptions.request, Math.floor(config.clock() / 1000));
    if (delegation !== undefined) verifyDelegation({ claims }, delegation);
    if (introspector !== undefined) current = await introspector.assertActive(token, claims);
    // The server may report fewer scopes than the token carries (a client or agent lost some since it was issued):
    // only those both name are granted.
    const scopes = current?.scopes === undefined ? claimedScopes : claimedScopes.filter((s) => current.scopes!.includes(s));
    if (required.length > 0) {
      const missing = required.filter((s) => !scopes.includes(s));
      if (missing.length > 0) throw new InsufficientScope(required, missing, scopes);
    }
    return buildAuthInfo(token, claims, scopes, audience);
  }

  return { issuer: config.issuer, audience: config.audiences, dpopAlgorithms: options.dpop?.algorithms ?? JWS_ALGORITHMS, dpopRequired: options.dpop?.required === true, verify };
}

/** The coded error for each way the JWS itself can fail (RFC 7515, RFC 8725 §3.1 and §3.11). */
export function refusalError(refusal: JwsRefusal): MandateError {
  switch (refusal.failure) {
    case 'malformed':
      return new TokenMalformed(refusal.reason);
    case 'alg_not_allowed':
      return new AlgorithmNotAllowed(refusal.alg);
    case 'typ_mismatch':
      return new TokenTypeInvalid(refusal.typ);
    case 'no_kid':
      return new NoMatchingKey(refusal.kid, 'the JWS header has no kid');
    case 'unknown_key':
      return new NoMatchingKey(refusal.kid);
    case 'bad_signature':
      return new SignatureInvalid();
  }
}

export interface CheckedOptions {
  issuer: string;
  audiences: readonly string[];
  algorithms: readonly JwsAlgorithm[];
  toleranceSeconds: number;
  cooldownSeconds: number;
  maxAgeSeconds: number;
  clock: () => number;
}

/** Misuse is thrown as a TypeError when the verifier is created, never on the first request. */
export function checkOptions(options: VerifierOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  assertIssuerIdentifier(options.issuer);
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a !== '')) {
    throw new TypeError('audience must be a non-empty string or a non-empty array of them');
  }
  const algorithms = options.algorithms ?? SIGNING_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError('algorithms must be a non-empty array');
  for (const alg of algorithms) {
    if (!isJwsAlgorithm(alg)) throw new TypeError(`algorithm ${String(alg)} is not a supported asymmetric JWS algorithm`);
  }
  const toleranceSeconds = options.clockToleranceSeconds ?? 30;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0 || toleranceSeconds > 300) {
    throw new TypeError('clockToleranceSeconds must be between 0 and 300');
  }
  const cooldownSeconds = options.jwksRefetchCooldownSeconds ?? 30;
  const maxAgeSeconds = options.jwksMaxAgeSeconds ?? 600;
  if (!Number.isFinite(cooldownSeconds) || cooldownSeconds < 0) throw new TypeError('jwksRefetchCooldownSeconds must be ≥ 0');
  if (!Number.isFinite(maxAgeSeconds) || maxAgeSeconds <= 0) throw new TypeError('jwksMaxAgeSeconds must be > 0');
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning milliseconds');
  return { issuer: options.issuer, audiences: [...audiences], algorithms, toleranceSeconds, cooldownSeconds, maxAgeSeconds, clock };
}
