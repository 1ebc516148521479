import type { AccessTokenClaims, TxnTokenClaims } from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ClientRecords, ResourceRecords, TransactionTokenRecord, TransactionTokenRecords } from '../store/store.ts';
import { verifyOwnTxnToken } from '../tokens/transaction-token.ts';
import { accessTokenLife, type AccessTokenLife, partyProblem, type TokenLifecycleDeps } from './token-lifecycle.ts';

/**
 * Whether a Transaction Token we issued is still alive (issue 11 item 5). A Txn-Token is only as alive as its
 * whole chain, like every token of ours:
 *
 * | link | dead when |
 * |---|---|
 * | the Txn-Token itself | its `jti` was revoked: directly, or as a descendant in the lineage (its subject token, or the Txn-Token it replaced, was revoked) |
 * | the access token the transaction started from | dead by `token-lifecycle.ts` (revoked, a party disabled, its grant ended, nothing left of its allowance) |
 * | each workload that requested it or a predecessor | an agent missing, disabled, or disabled after the token was issued; a resource server no longer registered |
 *
 * The root's claims come from the Txn-Token's row (written at issuance, copied by each replacement), never from
 * the Txn-Token itself, which embeds no access token (draft §9.4).
 */

export interface TxnTokenLifeDeps {
  keys: KeyRing;
  issuer: string;
  trustDomain: string;
  lifecycle: TokenLifecycleDeps;
  records: Pick<TransactionTokenRecords, 'getTransactionToken'>;
  clients: Pick<ClientRecords, 'getClient'>;
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
}

export type LiveTxnToken = {
  ok: true;
  claims: TxnTokenClaims & { jti: string; iss: string };
  record: TransactionTokenRecord;
  /** The root access token's life: what it may still carry (a replacement never exceeds it). */
  root: Extract<AccessTokenLife, { alive: true }>;
};

/** Why a workload of the chain no longer stands, or null. */
async function workloadProblem(record: TransactionTokenRecord, issuedAt: number, deps: Pick<TxnTokenLifeDeps, 'clients' | 'resources'>): Promise<string | null> {
  for (const workload of record.workloads) {
    if (workload.kind === 'agent') {
      const problem = partyProblem(await deps.clients.getClient(workload.id), issuedAt, `agent ${workload.id}`);
      if (problem) return problem;
    } else if (!(await deps.resources.getResourceByUri(workload.id))) {
      return `resource server ${workload.id} no longer exists`;
    }
  }
  return null;
}

/**
 * A Txn-Token presented back to us (a replacement's subject, introspection): ours, of our trust domain, unexpired,
 * and alive. The failure says which, for the audit trail; callers only learn that the token was not accepted.
 */
export async function verifyLiveTxnToken(token: string, deps: TxnTokenLifeDeps, now: number): Promise<LiveTxnToken | { ok: false; reason: 'expired' | 'invalid' | 'inactive'; detail?: string }> {
  const own = await verifyOwnTxnToken(token, { keys: deps.keys, issuer: deps.issuer, trustDomain: deps.trustDomain, now });
  if (!own.ok) return own;
  const { claims } = own;
  const [record, revoked] = await Promise.all([deps.records.getTransactionToken(claims.jti), deps.lifecycle.revocations.isTokenIdRevoked(claims.jti)]);
  if (!record) return { ok: false, reason: 'inactive', detail: 'no record of this Txn-Token' };
  if (revoked) return { ok: false, reason: 'inactive', detail: 'the Txn-Token (or a token it derives from) was revoked' };
  const workloads = await workloadProblem(record, claims.iat, deps);
  if (workloads) return { ok: false, reason: 'inactive', detail: workloads };
  const root = await accessTokenLife(record.rootClaims as AccessTokenClaims, deps.lifecycle, now);
  if (!root.alive) return { ok: false, reason: 'inactive', detail: `its subject token: ${root.reason}` };
  return { ok: true, claims, record, root };
}
