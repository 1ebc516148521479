import { createHash, hkdfSync } from 'node:crypto';
import { createDpopNonces, type DpopNonces, JWS_ALGORITHMS, type JwsAlgorithm, verifyDpopProof } from '@mandate/protocol';
import type { MandateConfig } from '../config.ts';
import type { ReplayRecords } from '../store/store.ts';
import { OAuthError } from './oauth-error.ts';

/**
 * DPoP (RFC 9449) at this server: proofs are verified by `@mandate/protocol` (shared with the SDK's resource side);
 * this module adds what needs the server: the `jti` replay check in the store every instance shares, the nonces, and
 * the errors of the token endpoint. A grant never sees a proof, only the thumbprint of a verified one (`jkt`).
 */

/** Every asymmetric algorithm `@mandate/protocol` verifies; advertised as `dpop_signing_alg_values_supported`. */
export const DPOP_ALGORITHMS: readonly JwsAlgorithm[] = JWS_ALGORITHMS;
const algorithms: ReadonlySet<JwsAlgorithm> = new Set(DPOP_ALGORITHMS);

export interface DpopDeps {
  /** The replay markers every instance shares (the `replay_markers` table; Redis could implement the same interface). */
  replay: Pick<ReplayRecords, 'consumeOnce'>;
  /** Set when proofs must carry a server nonce (`dpop.nonceRequired`). */
  nonces: DpopNonces | null;
  proofMaxAgeSeconds: number;
  clockSkewSeconds: number;
}

/** The request a proof came with, as this server names it (its public URL, not what a proxy forwarded). */
export interface DpopRequest {
  /** The `DPoP` header's value; repeated headers arrive joined by a comma and are refused. */
  proof: string;
  method: string;
  url: string;
  /** At a resource (userinfo): the access token presented with the proof, and the key it is bound to. */
  accessToken?: string;
  jkt?: string;
}

export type DpopCheck = { ok: true; jkt: string } | { ok: false; error: 'invalid_dpop_proof' | 'use_dpop_nonce'; description: string };

/** The nonce secret: derived from the KEK, so instances sharing the KEK (as they must) share nonces. */
export function deriveDpopNonceSecret(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'mandate dpop nonce v1', 32));
}

export function dpopDeps(config: Pick<MandateConfig, 'dpop' | 'tokens'>, nonceSecret: Buffer, replay: DpopDeps['replay']): DpopDeps {
  return {
    replay,
    nonces: config.dpop.nonceRequired ? createDpopNonces(nonceSecret, config.dpop.noncePeriodSeconds) : null,
    proofMaxAgeSeconds: config.dpop.proofMaxAgeSeconds,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
  };
}

/**
 * Verifies a DPoP proof (RFC 9449 §4.3) and records its `jti` so that it is accepted once, by any instance
 * (§11.1): the marker is keyed by the SHA-256 of the key thumbprint and `jti`, and kept until the proof would be
 * too old anyway.
 */
export async function checkDpopProof(request: DpopRequest, deps: DpopDeps, now: number): Promise<DpopCheck> {
  const result = verifyDpopProof(request.proof, {
    method: request.method,
    url: request.url,
    algorithms,
    nowSeconds: now,
    maxAgeSeconds: deps.proofMaxAgeSeconds,
    clockSkewSeconds: deps.clockSkewSeconds,
    ...(deps.nonces ? { acceptsNonce: (nonce: unknown) => deps.nonces!.accepts(nonce, now) } : {}),
    ...(request.accessToken !== undefined ? { accessToken: request.accessToken } : {}),
    ...(request.jkt !== undefined ? { jkt: request.jkt } : {}),
  });
  if (!result.ok) return { ok: false, error: result.failure === 'use_nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof', description: result.reason };
  const marker = `dpop:${createHash('sha256').update(`${result.jkt}\u0000${result.jti}`).digest('base64url')}`;
  // Kept past the proof's last acceptable moment by the clock skew too: an instance whose clock runs ahead by up to
  // that much must neither purge nor take over the marker while this one still accepts the proof (FAULT-13).
  if (!(await deps.replay.consumeOnce(marker, result.iat + deps.proofMaxAgeSeconds + deps.clockSkewSeconds, now))) {
    return { ok: false, error: 'invalid_dpop_proof', description: 'the DPoP proof was used before' };
  }
  return { ok: true, jkt: result.jkt };
}

/** The `DPoP-Nonce` header to send now, when nonces are required. */
export function dpopNonceHeader(deps: Pick<DpopDeps, 'nonces'>, now: number): Record<string, string> {
  return deps.nonces ? { 'dpop-nonce': deps.nonces.current(now) } : {};
}

/** RFC 9449 §5, §8: the token endpoint's 400 for a refused proof; `use_dpop_nonce` carries the nonce to retry with. */
export function dpopTokenError(check: Exclude<DpopCheck, { ok: true }>, deps: Pick<DpopDeps, 'nonces'>, now: number): OAuthError {
  return new OAuthError(check.error, check.description, { detail: `DPoP: ${check.description}`, headers: dpopNonceHeader(deps, now) });
}
