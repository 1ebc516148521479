import { randomUUID } from 'node:crypto';
import { checkTxnTokenClaims, TXN_TOKEN_TYP, type TxnTokenClaims } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { encodeJwt, verifyOwnJwt } from './jwt.ts';

/**
 * Transaction Tokens (draft-ietf-oauth-transaction-tokens-10 §5) as Mandate signs them and reads them back: a JWT
 * with `typ: txntoken+jwt`, signed by the key ring like every token of ours, with `iss` (optional in the draft;
 * it names our JWKS) and a `jti` of its own beside the transaction's `txn`, so that one replacement can be revoked
 * (and its lineage followed) without the others of the same transaction.
 */

export interface TxnTokenContent {
  /** The transaction: new for an issuance, the replaced token's for a replacement (§9.7: never changed). */
  txn: string;
  sub: string;
  trustDomain: string;
  scopes: readonly string[];
  requestingWorkload: string;
  tctx: Record<string, unknown> | undefined;
  rctx: Record<string, unknown>;
  /** Seconds since the epoch; the caller has already capped it at the subject token's expiry. */
  exp: number;
}

/** Signs a Txn-Token with the active key; returns it and its claims. */
export async function mintTxnToken(content: TxnTokenContent, deps: { keys: KeyRing; issuer: string; now: number }): Promise<{ token: string; claims: TxnTokenClaims & { jti: string } }> {
  const claims: TxnTokenClaims & { jti: string } = {
    iss: deps.issuer,
    iat: deps.now,
    exp: content.exp,
    aud: content.trustDomain,
    txn: content.txn,
    sub: content.sub,
    scope: content.scopes.join(' '),
    req_wl: content.requestingWorkload,
    ...(content.tctx !== undefined ? { tctx: content.tctx } : {}),
    rctx: content.rctx,
    jti: randomUUID(),
  };
  return { token: await encodeJwt(deps.keys.active, TXN_TOKEN_TYP, claims), claims };
}

export type OwnTxnTokenResult = { ok: true; claims: TxnTokenClaims & { jti: string; iss: string } } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * A Txn-Token this server signed, presented back (a replacement's subject, introspection): signature, `typ`, `iss`
 * and `exp` (no skew: it is our own clock), then the draft's claims with `aud` = our trust domain, and a `jti`.
 */
export async function verifyOwnTxnToken(token: string, deps: { keys: KeyRing; issuer: string; trustDomain: string; now: number }): Promise<OwnTxnTokenResult> {
  const result = await verifyOwnJwt(token, deps.keys, { typ: TXN_TOKEN_TYP, issuer: deps.issuer, now: deps.now, clockSkewSeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.failure === 'expired' ? 'expired' : 'invalid' };
  const checked = checkTxnTokenClaims(result.claims, { trustDomain: deps.trustDomain, now: deps.now, clockToleranceSeconds: 0 });
  if (!checked.ok) return { ok: false, reason: checked.reason === 'expired' ? 'expired' : 'invalid' };
  if (typeof checked.claims.jti !== 'string') return { ok: false, reason: 'invalid' };
  return { ok: true, claims: checked.claims as TxnTokenClaims & { jti: string; iss: string } };
}
