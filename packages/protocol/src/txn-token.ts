/**
 * Transaction Tokens (draft-ietf-oauth-transaction-tokens-10): the claims, the `typ`, the token type URN and the
 * HTTP header, and the one check of a Txn-Token's claims that the server (replacement, introspection) and the SDK
 * (the `Txn-Token` header's verifier) both run after the signature.
 */

/** §5.1: the JOSE `typ` of a Txn-Token (media type `application/txntoken+jwt`). */
export const TXN_TOKEN_TYP = 'txntoken+jwt';

/** §6.1: `requested_token_type` and `issued_token_type` of a Txn-Token; a replacement's `subject_token_type`. */
export const TOKEN_TYPE_TXN_TOKEN = 'urn:ietf:params:oauth:token-type:txn_token';

/** RFC 8693 §3: a refresh token, which §6.2 forbids as a Txn-Token request's subject. */
export const TOKEN_TYPE_REFRESH_TOKEN = 'urn:ietf:params:oauth:token-type:refresh_token';

/** §7.1: the HTTP header that carries exactly one Txn-Token between workloads (never `Authorization`). */
export const TXN_TOKEN_HEADER = 'Txn-Token';

/** The claims of a Txn-Token as Mandate issues them (§5.2), open to claims a recipient does not understand. */
export interface TxnTokenClaims {
  /** OPTIONAL in the draft; Mandate always sets it (its issuer identifier), which names the JWKS to verify with. */
  iss?: string;
  iat: number;
  exp: number;
  /** The trust domain the token is valid in; never accepted outside it. */
  aud: string;
  /** The transaction's id: the same for the original token and every replacement. */
  txn: string;
  /** The principal (a user id, or an agent's id when it acts for itself), unique within the trust domain. */
  sub: string;
  /** The transaction's purpose, space-separated; never wider than the subject token's. */
  scope: string;
  /** The workload that requested this token (an agent's client id, or a resource server's URI). */
  req_wl: string;
  /** Immutable authorization details of the transaction, from the request's `request_details`. */
  tctx?: Record<string, unknown>;
  /** Environmental context: the request's `request_context`, and what Mandate adds (`req_wl_chain`, `authn`, `req_ip`). */
  rctx?: Record<string, unknown>;
  /** Mandate extension: this token's own id (a replacement keeps `txn` and gets a new `jti`), for revocation. */
  jti?: string;
  [claim: string]: unknown;
}

/** Why a Txn-Token's claims were refused: the claim, and whether it was missing, ill-formed, or failed its check. */
export type TxnTokenClaimProblem =
  | { claim: 'aud'; reason: 'mismatch' }
  | { claim: 'exp'; reason: 'expired' }
  | { claim: 'iat'; reason: 'future' }
  | { claim: string; reason: 'missing' | 'invalid' };

export interface TxnTokenClaimExpectations {
  /** The receiver's trust domain: `aud` must be exactly it (§7.2). */
  trustDomain: string;
  /** Seconds since the epoch. */
  now: number;
  /** Clock skew allowed on `exp` and `iat`, in seconds. */
  clockToleranceSeconds: number;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * Checks a (signature-verified) Txn-Token's claims (§5.2, §7.2): the required claims with their types, `aud` equal
 * to this trust domain, unexpired, not issued in the future. Returns the typed claims, or the first problem.
 */
export function checkTxnTokenClaims(payload: Record<string, unknown>, expect: TxnTokenClaimExpectations): { ok: true; claims: TxnTokenClaims } | ({ ok: false } & TxnTokenClaimProblem) {
  for (const claim of ['iat', 'exp'] as const) {
    if (!isTime(payload[claim])) return { ok: false, claim, reason: payload[claim] === undefined ? 'missing' : 'invalid' };
  }
  for (const claim of ['aud', 'txn', 'sub', 'req_wl'] as const) {
    if (!isText(payload[claim])) return { ok: false, claim, reason: payload[claim] === undefined ? 'missing' : 'invalid' };
  }
  if (typeof payload['scope'] !== 'string') return { ok: false, claim: 'scope', reason: payload['scope'] === undefined ? 'missing' : 'invalid' };
  for (const claim of ['tctx', 'rctx'] as const) {
    if (payload[claim] !== undefined && !isObject(payload[claim])) return { ok: false, claim, reason: 'invalid' };
  }
  if (payload['iss'] !== undefined && !isText(payload['iss'])) return { ok: false, claim: 'iss', reason: 'invalid' };
  if (payload['aud'] !== expect.trustDomain) return { ok: false, claim: 'aud', reason: 'mismatch' };
  // RFC 7519 §4.1.4: the current time must be before `exp`; the tolerance absorbs clock skew between hosts.
  if (expect.now >= (payload['exp'] as number) + expect.clockToleranceSeconds) return { ok: false, claim: 'exp', reason: 'expired' };
  if ((payload['iat'] as number) > expect.now + expect.clockToleranceSeconds) return { ok: false, claim: 'iat', reason: 'future' };
  return { ok: true, claims: payload as TxnTokenClaims };
}

/** The scopes of a Txn-Token's `scope` claim. */
export const txnTokenScopes = (claims: Pick<TxnTokenClaims, 'scope'>): string[] => claims.scope.split(' ').filter((s) => s !== '');
