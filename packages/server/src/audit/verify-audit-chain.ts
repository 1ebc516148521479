import { AUDIT_GENESIS_HASH, type AuditRecords } from '../store/store.ts';
import { auditRowHash } from './audit-chain.ts';

export type AuditChainProblem =
  | { kind: 'missing'; seq: number; message: string }
  | { kind: 'altered'; seq: number; message: string };

export interface AuditChainReport {
  ok: boolean;
  rowsChecked: number;
  head: { seq: number; hash: string };
  problem: AuditChainProblem | null;
}

/** Walks the whole chain from the first row and reports the first row that is missing or does not hash as recorded. */
export async function verifyAuditChain(store: Pick<AuditRecords, 'listAuditRows'>, pageSize = 1000): Promise<AuditChainReport> {
  let prevHash = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  let rowsChecked = 0;
  for (;;) {
    const rows = await store.listAuditRows({ afterSeq: expectedSeq - 1, limit: pageSize });
    if (rows.length === 0) break;
    for (const row of rows) {
      const head = { seq: expectedSeq - 1, hash: prevHash };
      if (row.seq !== expectedSeq) {
        const message = row.seq > expectedSeq ? `rows ${expectedSeq}–${row.seq - 1} are missing` : `row ${row.seq} is out of order`;
        return { ok: false, rowsChecked, head, problem: { kind: 'missing', seq: expectedSeq, message } };
      }
      if (row.prevHash !== prevHash || auditRowHash(prevHash, row) !== row.hash) {
        return { ok: false, rowsChecked, head, problem: { kind: 'altered', seq: row.seq, message: `row ${row.seq} was altered` } };
      }
      prevHash = row.hash;
      expectedSeq += 1;
      rowsChecked += 1;
    }
  }
  return { ok: true, rowsChecked, head: { seq: expectedSeq - 1, hash: prevHash }, problem: null };
}
