import type { KeyObject } from 'node:crypto';
import { AUDIT_GENESIS_HASH, type AuditRecords } from '../store/store.ts';
import { anchorProblem, auditCheckpointMac, auditRowMac, macsEqual, unkeyedAuditRowHash } from './audit-chain.ts';

export type AuditChainProblem =
  | { kind: 'missing'; seq: number; message: string }
  | { kind: 'altered'; seq: number; message: string }
  | { kind: 'anchor'; seq: number; message: string }
  | { kind: 'unkeyed'; seq: number; message: string };

export interface AuditChainReport {
  ok: boolean;
  rowsChecked: number;
  /** The last row that verified. */
  head: { seq: number; hash: string };
  /** The anchored head the table was compared with. */
  anchor: { seq: number; hash: string; keyedFromSeq: number } | null;
  /** Rows written before the audit key existed (plain SHA-256, no MAC). */
  unkeyedRows: number;
  /** Rows where `mandate audit reanchor` continued a chain whose anchor had been broken: look at their detail. */
  reanchoredAt: number[];
  /** Rows up to this seq were deleted by retention; the chain is verified from the checkpoint there (0: none). */
  prunedThrough: number;
  problem: AuditChainProblem | null;
}

export interface VerifyOptions {
  /**
   * Rows up to this seq may lack a MAC: the operator vouches that they predate the upgrade that introduced the key
   * (`mandate audit verify` printed that number then). Default 0: any unkeyed row is a problem.
   */
  allowUnkeyedThrough?: number;
  pageSize?: number;
  /** Check only the rows up to this seq (before retention deletes them), not the anchored head. */
  throughSeq?: number;
}

/**
 * Checks the anchor's MAC, then walks the chain from the first row (or from the retention checkpoint, whose MAC is
 * checked too) to the anchored head and reports the first
 * problem: a row missing (a `seq` gap, or a tail cut short of the anchor), a row whose MAC does not verify
 * (altered, or the chain recomputed without the key), or rows without a MAC that the caller did not vouch for.
 */
export async function verifyAuditChain(
  store: Pick<AuditRecords, 'listAuditRows' | 'auditChainState' | 'auditCheckpoint'>,
  key: KeyObject,
  options: VerifyOptions = {},
): Promise<AuditChainReport> {
  const pageSize = options.pageSize ?? 1000;
  const { anchor, lastRow } = await store.auditChainState();
  const checkpoint = await store.auditCheckpoint();
  const prunedThrough = checkpoint?.seq ?? 0;
  let prevHash = checkpoint?.hash ?? AUDIT_GENESIS_HASH;
  let expectedSeq = prunedThrough + 1;
  let rowsChecked = 0;
  const reanchoredAt: number[] = [];
  const report = (problem: AuditChainProblem | null): AuditChainReport => ({
    ok: problem === null,
    rowsChecked,
    head: { seq: expectedSeq - 1, hash: prevHash },
    anchor: anchor && { seq: anchor.seq, hash: anchor.hash, keyedFromSeq: anchor.keyedFromSeq },
    unkeyedRows: anchor ? Math.max(0, anchor.keyedFromSeq - 1 - prunedThrough) : 0,
    reanchoredAt,
    prunedThrough,
    problem,
  });

  const untrusted = anchorProblem(key, anchor, lastRow);
  if (untrusted !== null || anchor === null) return report({ kind: 'anchor', seq: anchor?.seq ?? 0, message: untrusted ?? 'the audit anchor is missing' });
  if (lastRow.seq > anchor.seq) {
    // An append commits its rows and the anchor together, so rows past the anchor were written by someone else.
    return report({ kind: 'anchor', seq: anchor.seq + 1, message: `rows ${anchor.seq + 1}–${lastRow.seq} come after the anchored head ${anchor.seq}: not written by Mandate` });
  }

  if (checkpoint && !macsEqual(checkpoint.mac, auditCheckpointMac(key, checkpoint))) {
    return report({ kind: 'anchor', seq: checkpoint.seq, message: 'the retention checkpoint does not verify with this key: it was altered or forged' });
  }
  const last = Math.min(anchor.seq, options.throughSeq ?? anchor.seq);
  while (expectedSeq <= last) {
    const rows = await store.listAuditRows({ afterSeq: expectedSeq - 1, limit: pageSize });
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.seq > last) break;
      if (row.seq !== expectedSeq) {
        const message = row.seq > expectedSeq ? `rows ${expectedSeq}–${row.seq - 1} are missing` : `row ${row.seq} is out of order`;
        return report({ kind: 'missing', seq: expectedSeq, message });
      }
      const expected = row.seq < anchor.keyedFromSeq ? unkeyedAuditRowHash(prevHash, row) : auditRowMac(key, prevHash, row);
      if (row.prevHash !== prevHash || !macsEqual(expected, row.hash)) {
        return report({ kind: 'altered', seq: row.seq, message: `row ${row.seq} was altered (or its chain recomputed without the audit key)` });
      }
      if (row.event === 'audit.reanchored') reanchoredAt.push(row.seq);
      prevHash = row.hash;
      expectedSeq += 1;
      rowsChecked += 1;
    }
  }
  if (expectedSeq <= last) {
    return report({ kind: 'missing', seq: expectedSeq, message: `rows ${expectedSeq}–${last} are missing: the tail was cut short of the anchored head ${anchor.seq}` });
  }
  if (options.throughSeq !== undefined) return report(null);
  if (prevHash !== anchor.hash) return report({ kind: 'anchor', seq: anchor.seq, message: `row ${anchor.seq} is not the anchored head` });
  const allowed = options.allowUnkeyedThrough ?? 0;
  if (anchor.keyedFromSeq - 1 > Math.max(allowed, prunedThrough)) {
    const first = Math.max(allowed, prunedThrough) + 1;
    const last = anchor.keyedFromSeq - 1;
    return report({
      kind: 'unkeyed',
      seq: first,
      message: `rows ${first}–${last} carry no MAC, so anyone could have rewritten them; if they predate the audit key (migration 020), accept them with --allow-unkeyed ${last}`,
    });
  }
  return report(null);
}
