import type { AccessTokenClaims, ActClaim } from '@mandate/protocol';
import { AudienceMismatch, ClaimInvalid, IssuerMismatch, TokenExpired, TokenNotYetValid } from '../errors.ts';

/** What the claims are checked against. */
export interface ClaimExpectations {
  issuer: string;
  /** The identifiers of this resource; `aud` must contain one of them, compared exactly (RFC 9068 §4). */
  audiences: readonly string[];
  nowSeconds: number;
  clockToleranceSeconds: number;
}

/** Deepest `act` nesting accepted: deeper chains are refused rather than walked without bound. */
const maxActDepth = 16;

/**
 * Validates an access token's claims set per RFC 9068 §4 (after the signature was verified) and returns it typed,
 * with the matched audience and the scopes. Each failure has its own error: {@link IssuerMismatch},
 * {@link AudienceMismatch}, {@link TokenExpired}, {@link TokenNotYetValid}, or {@link ClaimInvalid} for a required
 * claim (RFC 9068 §2.2) that is missing or ill-typed.
 */
export function validateClaims(
  payload: Record<string, unknown>,
  expect: ClaimExpectations,
): { claims: AccessTokenClaims; audience: string; scopes: string[] } {
  const { iss, aud, exp, nbf, iat } = payload;
  if (typeof iss !== 'string') throw new ClaimInvalid('iss', iss === undefined ? 'missing' : 'invalid');
  if (iss !== expect.issuer) throw new IssuerMismatch();
  const audience = matchAudience(aud, expect.audiences);
  const now = expect.nowSeconds;
  const skew = expect.clockToleranceSeconds;
  requireNumericDate('exp', exp);
  // RFC 7519 §4.1.4: the current time must be before `exp`; the tolerance absorbs clock skew between hosts.
  if (now >= (exp as number) + skew) throw new TokenExpired();
  if (nbf !== undefined) {
    requireNumericDate('nbf', nbf);
    if ((nbf as number) > now + skew) throw new TokenNotYetValid('nbf');
  }
  requireNumericDate('iat', iat);
  if ((iat as number) > now + skew) throw new TokenNotYetValid('iat');
  requireString(payload, 'sub');
  requireString(payload, 'client_id');
  requireString(payload, 'jti');
  const scopes = parseScope(payload.scope);
  if (payload.sub_profile !== undefined && typeof payload.sub_profile !== 'string') {
    throw new ClaimInvalid('sub_profile', 'invalid');
  }
  if (payload.act !== undefined && !isActClaim(payload.act, 1)) throw new ClaimInvalid('act', 'invalid');
  return { claims: payload as AccessTokenClaims, audience, scopes };
}

function matchAudience(aud: unknown, audiences: readonly string[]): string {
  if (typeof aud === 'string') {
    if (audiences.includes(aud)) return aud;
    throw new AudienceMismatch();
  }
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string')) {
    throw new ClaimInvalid('aud', aud === undefined ? 'missing' : 'invalid');
  }
  const match = (aud as string[]).find((a) => audiences.includes(a));
  if (match === undefined) throw new AudienceMismatch();
  return match;
}

function requireNumericDate(claim: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ClaimInvalid(claim, value === undefined ? 'missing' : 'invalid');
  }
}

function requireString(payload: Record<string, unknown>, claim: string): void {
  const value = payload[claim];
  if (typeof value !== 'string' || value === '') throw new ClaimInvalid(claim, value === undefined ? 'missing' : 'invalid');
}

/** RFC 9068 §2.2.3 / RFC 8693 §4.2: `scope` is a space-separated list. Absent means no scope at all. */
function parseScope(scope: unknown): string[] {
  if (scope === undefined) return [];
  if (typeof scope !== 'string') throw new ClaimInvalid('scope', 'invalid');
  return scope.split(' ').filter((s) => s !== '');
}

/**
 * Whether `value` is an `act` chain as Mandate issues it (RFC 8693 §4.1, issue 11 item 1): every node an object
 * with a non-empty `sub` and `client_id` (`sub_profile` and `iss` strings where present), at most
 * {@link maxActDepth} deep. A node without them cannot come from Mandate, whatever signed it: such a token is
 * refused, never read as a shorter or anonymous chain.
 */
export function isActClaim(value: unknown, depth = 1): value is ActClaim {
  if (depth > maxActDepth || typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const node = value as Record<string, unknown>;
  if (typeof node.sub !== 'string' || node.sub === '') return false;
  if (typeof node.client_id !== 'string' || node.client_id === '') return false;
  for (const member of ['sub_profile', 'iss'] as const) {
    if (node[member] !== undefined && typeof node[member] !== 'string') return false;
  }
  return node.act === undefined || isActClaim(node.act, depth + 1);
}
