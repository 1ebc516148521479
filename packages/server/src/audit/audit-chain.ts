import { createHash } from 'node:crypto';
import type { AuditRow } from '../store/store.ts';

/**
 * Each audit row's hash covers the previous row's hash and every field of the row, so altering, removing or
 * reordering a row breaks the chain from that row on: hash_n = SHA-256(hash_{n-1} ‖ "\n" ‖ JSON(row_n)).
 * The row is serialised in insertion order, as it is stored (the detail column is JSON text in both dialects),
 * and JSON.parse → JSON.stringify reproduces that text exactly, so verification re-derives the same bytes.
 */
export function auditRowHash(prevHash: string, row: Omit<AuditRow, 'prevHash' | 'hash'>): string {
  const body = JSON.stringify([row.seq, row.tsMs, row.event, row.actor, row.subject, row.clientId, row.ip, row.detail]);
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}
