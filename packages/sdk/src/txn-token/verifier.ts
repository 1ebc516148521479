import { checkTxnTokenClaims, TXN_TOKEN_TYP, txnTokenScopes, verifyCompactJws } from '@mandate/protocol';
import type { JwsAlgorithm, TxnTokenClaims } from '@mandate/protocol';
import { cachedMetadata } from '../discovery/authorization-server-metadata.ts';
import { AudienceMismatch, ClaimInvalid, InsufficientScope, IssuerMismatch, MetadataInvalid, TokenExpired, TokenNotYetValid, TokenTypeInvalid } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { isAcceptableEndpoint } from '../lib/issuer-url.ts';
import { checkOptions, refusalError } from '../verify/create-verifier.ts';
import { RemoteKeySet } from '../verify/key-set.ts';

/** Options of {@link createTxnTokenVerifier}. */
export interface TxnTokenVerifierOptions extends HttpOptions {
  /** The Transaction Token Service's issuer identifier (Mandate's): its JWKS is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** This workload's trust domain: a Txn-Token's `aud` must be exactly it (draft §7.2). */
  trustDomain: string;
  /** Asymmetric JWS algorithms to accept. Default `['ES256', 'EdDSA', 'RS256']`. */
  algorithms?: readonly JwsAlgorithm[];
  /** Allowed clock skew for `exp` and `iat`, in seconds. Default 30, at most 300. */
  clockToleranceSeconds?: number;
  /** Current time in milliseconds since the epoch. Default `Date.now`; tests inject their own. */
  clock?: () => number;
  /** Least time between two JWKS fetches caused by unknown `kid`s, in seconds. Default 30. */
  jwksRefetchCooldownSeconds?: number;
  /** Age after which the JWKS is refetched even when every `kid` is known, in seconds. Default 600. */
  jwksMaxAgeSeconds?: number;
}

/** What a verified Txn-Token says, for the handlers of the workload that received it. */
export interface TxnTokenContext {
  /** The Txn-Token as received: forward it unmodified in the `Txn-Token` header of every downstream call (§7.2). */
  token: string;
  /** The transaction's id (`txn`). */
  txn: string;
  /** The principal of the transaction (`sub`). */
  subject: string;
  /** The transaction's purpose (`scope`). */
  scopes: string[];
  /** The workload that requested the token (`req_wl`). */
  requestingWorkload: string;
  /** Immutable authorization details (`tctx`); empty when the token has none. */
  tctx: Record<string, unknown>;
  /** Environmental context (`rctx`: `req_ip`, `authn`, Mandate's `req_wl_chain`, …); empty when none. */
  rctx: Record<string, unknown>;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  claims: TxnTokenClaims;
}

/** Per-call options of {@link TxnTokenVerifier.verify}. */
export interface TxnTokenVerifyOptions {
  /** Scopes the Txn-Token must all carry; otherwise {@link InsufficientScope}. */
  requiredScopes?: readonly string[];
}

export interface TxnTokenVerifier {
  readonly issuer: string;
  readonly trustDomain: string;
  /** Verifies a Txn-Token and returns its context; rejects with a coded {@link MandateError} for any failed check. */
  verify(token: string, options?: TxnTokenVerifyOptions): Promise<TxnTokenContext>;
}

/**
 * Creates a verifier of Transaction Tokens for a workload of one trust domain (draft-ietf-oauth-transaction-tokens-10
 * §7.2). Checks, in order: compact JWS form; `alg` among the configured asymmetric algorithms; `typ` is
 * `txntoken+jwt` ({@link TokenTypeInvalid} otherwise: an access token is not a Txn-Token); the key by `kid` in the
 * issuer's JWKS only; the signature; the claims the draft requires, with `aud` exactly the trust domain
 * ({@link AudienceMismatch}), unexpired ({@link TokenExpired}) and not issued in the future, beyond the clock
 * tolerance; `iss`, when present, is the issuer; the required scopes.
 *
 * @example
 * const txnTokens = createTxnTokenVerifier({ issuer: 'https://as.example.com', trustDomain: 'trust-domain.example' });
 * const context = await txnTokens.verify(request.headers.get('txn-token')!, { requiredScopes: ['trade'] });
 * context.txn; context.subject; context.tctx;
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-transaction-tokens/
 */
export function createTxnTokenVerifier(options: TxnTokenVerifierOptions): TxnTokenVerifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.trustDomain !== 'string' || options.trustDomain === '') throw new TypeError('trustDomain must be a non-empty string');
  const config = checkOptions({ ...options, audience: options.trustDomain });
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const metadata = cachedMetadata(config.issuer, http);
  const keySet = new RemoteKeySet(
    async () => {
      const value = (await metadata()).jwks_uri;
      if (!isAcceptableEndpoint(value)) throw new MetadataInvalid('jwks_uri');
      return value;
    },
    { ...http, algorithms: config.algorithms, refetchCooldownMs: config.cooldownSeconds * 1000, maxAgeMs: config.maxAgeSeconds * 1000, clock: config.clock },
  );
  const jwsOptions = {
    algorithms: new Set(config.algorithms),
    typ: TXN_TOKEN_TYP,
    keyFor: (kid: string, alg: JwsAlgorithm) => keySet.cached(kid, alg) ?? keySet.resolve(kid, alg),
  };

  async function verify(token: string, verifyOptions: TxnTokenVerifyOptions = {}): Promise<TxnTokenContext> {
    if (typeof token !== 'string') throw new TypeError('token must be a string');
    const jws = await verifyCompactJws(token, jwsOptions);
    if (!jws.ok) throw jws.failure === 'typ_mismatch' ? new TokenTypeInvalid(jws.typ, TXN_TOKEN_TYP) : refusalError(jws);
    const checked = checkTxnTokenClaims(jws.payload, { trustDomain: options.trustDomain, now: config.clock() / 1000, clockToleranceSeconds: config.toleranceSeconds });
    if (!checked.ok) {
      switch (checked.reason) {
        case 'mismatch':
          throw new AudienceMismatch();
        case 'expired':
          throw new TokenExpired();
        case 'future':
          throw new TokenNotYetValid('iat');
        default:
          throw new ClaimInvalid(checked.claim, checked.reason);
      }
    }
    const { claims } = checked;
    if (claims.iss !== undefined && claims.iss !== config.issuer) throw new IssuerMismatch();
    const scopes = txnTokenScopes(claims);
    const required = verifyOptions.requiredScopes ?? [];
    const missing = required.filter((s) => !scopes.includes(s));
    if (missing.length > 0) throw new InsufficientScope(required, missing, scopes);
    return {
      token,
      txn: claims.txn,
      subject: claims.sub,
      scopes,
      requestingWorkload: claims.req_wl,
      tctx: claims.tctx ?? {},
      rctx: claims.rctx ?? {},
      issuedAt: claims.iat,
      expiresAt: claims.exp,
      claims,
    };
  }

  return { issuer: config.issuer, trustDomain: options.trustDomain, verify };
}
