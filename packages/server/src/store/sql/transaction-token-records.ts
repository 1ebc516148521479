import type { TransactionTokenRecord, TransactionTokenRecords } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlExecutor } from './driver.ts';

const columns: ColumnMap<TransactionTokenRecord> = {
  jti: { column: 'jti' },
  txn: { column: 'txn' },
  rootClaims: { column: 'root_claims', json: true },
  workloads: { column: 'workloads', json: true },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
};

/** Writes issued Transaction Tokens in the audit batch's transaction (audit-records.ts). */
export async function insertIssuedTransactionTokens(tx: SqlExecutor, records: readonly TransactionTokenRecord[]): Promise<void> {
  for (const record of records) await tx.run(...insertStatement('transaction_tokens', columns, record));
}

/** Issued Transaction Tokens (issue 11 item 5): one row each, purged once it has expired. */
export function transactionTokenRecords(db: SqlExecutor): TransactionTokenRecords {
  return {
    async recordTransactionToken(record) {
      await db.run(...insertStatement('transaction_tokens', columns, record));
    },
    async getTransactionToken(jti) {
      const row = await db.get('SELECT * FROM transaction_tokens WHERE jti = ?', [jti]);
      return row ? decodeRow(columns, row) : null;
    },
  };
}
