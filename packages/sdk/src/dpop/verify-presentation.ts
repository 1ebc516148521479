import { createHash } from 'node:crypto';
import { type DpopNonces, JWS_ALGORITHMS, type JwsAlgorithm, verifyDpopProof } from '@mandate/protocol';
import { DpopNonceRequired, DpopProofInvalid, SenderConstrainedToken, TokenNotDpopBound } from '../errors.ts';
import { type DpopReplayCache, MemoryDpopReplayCache } from './replay-cache.ts';

/** How a resource checks DPoP proofs (RFC 9449 §7); every member has a default. */
export interface DpopVerifyOptions {
  /** Proof algorithms accepted. Default: every asymmetric algorithm `@mandate/protocol` verifies. */
  algorithms?: readonly JwsAlgorithm[];
  /** Oldest proof accepted, from its `iat`, in seconds. Default 300. */
  maxAgeSeconds?: number;
  /** Where accepted proofs are remembered. Default: this process's memory ({@link MemoryDpopReplayCache}). */
  replayCache?: DpopReplayCache;
  /**
   * Accept only DPoP-bound tokens (what RFC 9728 `dpop_bound_access_tokens_required` announces): a token without
   * `cnf.jkt` is refused. Default false.
   */
  required?: boolean;
  /** Require a server nonce (RFC 9449 §9), from `createDpopNonces(secret, periodSeconds)`. Default: none required. */
  nonces?: DpopNonces;
  /**
   * The public origin of this resource (`https://mcp.example.com`): the `htu` of a proof is this origin with the
   * request's path, whatever host a proxy forwarded. Default: the origin of the verifier's first audience.
   */
  origin?: string;
}

/** The request an access token came with, as a middleware sees it. */
export interface PresentedRequest {
  /** The `Authorization` scheme the token came with. */
  scheme: 'Bearer' | 'DPoP';
  /** The `DPoP` header's value (repeated headers joined by a comma), or null. */
  proof: string | null;
  method: string;
  /** The request URL, absolute or path-and-query; only its path is used, under the resource's origin. */
  url: string;
}

/** Checks that a token is presented as its binding requires; the verifier calls it after the token itself verified. */
export type DpopPresentationCheck = (token: string, cnf: unknown, request: PresentedRequest | undefined, nowSeconds: number) => Promise<void>;

/**
 * The presentation check of a verifier (RFC 9449 §7.1, §7.2): a token with `cnf.jkt` must come with the `DPoP`
 * scheme and a proof of that key for this request, with `ath`, fresh, once; a token without `cnf` must not use the
 * `DPoP` scheme; a token bound any other way (`cnf` without `jkt`) is refused, as is a bound token checked with no
 * request at hand. Throws {@link SenderConstrainedToken}, {@link TokenNotDpopBound}, {@link DpopProofInvalid} or
 * {@link DpopNonceRequired}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 */
export function dpopPresentationCheck(options: DpopVerifyOptions, audience: string): DpopPresentationCheck {
  const algorithms = new Set(options.algorithms ?? JWS_ALGORITHMS);
  const maxAgeSeconds = options.maxAgeSeconds ?? 300;
  const replayCache = options.replayCache ?? new MemoryDpopReplayCache();
  const origin = options.origin ?? (URL.canParse(audience) ? new URL(audience).origin : undefined);
  const nonces = options.nonces;

  return async (token, cnf, request, nowSeconds) => {
    const bound = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
    if (cnf !== undefined && typeof bound !== 'string') throw new SenderConstrainedToken();
    const jkt = bound as string | undefined;
    if (jkt === undefined && options.required === true) throw new TokenNotDpopBound(true);
    if (request === undefined) {
      if (jkt !== undefined) throw new SenderConstrainedToken();
      return;
    }
    if (request.scheme === 'Bearer') {
      if (jkt !== undefined) throw new SenderConstrainedToken();
      return;
    }
    if (jkt === undefined) throw new TokenNotDpopBound();
    if (request.proof === null) throw new DpopProofInvalid('missing', 'a DPoP proof is required with the DPoP scheme');
    if (origin === undefined) throw new TypeError('dpop.origin is needed when the audience is not a URL');
    const path = URL.canParse(request.url) ? new URL(request.url) : new URL(request.url, origin);
    const result = verifyDpopProof(request.proof, {
      method: request.method.toUpperCase(),
      url: `${origin}${path.pathname}`,
      algorithms,
      nowSeconds,
      maxAgeSeconds,
      clockSkewSeconds: 60,
      accessToken: token,
      jkt,
      ...(nonces ? { acceptsNonce: (nonce: unknown) => nonces.accepts(nonce, nowSeconds) } : {}),
    });
    if (!result.ok) {
      if (result.failure === 'use_nonce' && nonces) throw new DpopNonceRequired(nonces.current(nowSeconds), result.reason);
      throw new DpopProofInvalid(result.failure, result.reason);
    }
    const key = createHash('sha256').update(`${result.jkt}\u0000${result.jti}`).digest('base64url');
    if (!(await replayCache.consumeOnce(key, result.iat + maxAgeSeconds, nowSeconds))) {
      throw new DpopProofInvalid('replayed', 'the DPoP proof was used before');
    }
  };
}
