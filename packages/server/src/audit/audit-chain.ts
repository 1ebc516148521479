import { createHash } from 'node:crypto';
import type { AuditRow } from '../store/store.ts';
import { canonicalJson } from './canonical-json.ts';

/**
 * Each audit row's hash covers the previous row's hash and every field of the row, so altering, removing or
 * reordering a row breaks the chain from that row on: hash_n = SHA-256(hash_{n-1} ‖ canonical(row_n)).
 */
export function auditRowHash(prevHash: string, row: Omit<AuditRow, 'prevHash' | 'hash'>): string {
  const body = canonicalJson([row.seq, row.tsMs, row.event, row.actor, row.subject, row.clientId, row.ip, row.detail]);
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}
