import { createHash, createHmac, createSecretKey, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { AuditAnchor, AuditCheckpoint, AuditRow } from '../store/store.ts';

/**
 * The audit trail is a chain of keyed MACs: hash_n = HMAC-SHA256(K, hash_{n-1} ‖ "\n" ‖ JSON(row_n)), where K is
 * derived from the KEK and never stored in the database. Altering, removing or reordering a row breaks the chain
 * from that row on, and recomputing the chain after an edit needs K. Truncating the tail leaves a valid prefix, so
 * the head is also kept in `audit_anchor` with its own MAC (a different input domain, so no row's MAC is ever a
 * valid anchor MAC): verification compares the table's last row with it.
 *
 * The row is serialised in insertion order, as it is stored (the detail column is JSON text in both dialects),
 * and JSON.parse → JSON.stringify reproduces that text exactly, so verification re-derives the same bytes.
 */

type RowBody = Omit<AuditRow, 'prevHash' | 'hash'>;

/** A refusal to extend or trust a chain whose anchor does not verify. */
export class AuditAnchorError extends Error {
  override readonly name = 'AuditAnchorError';
}

/**
 * The audit MAC key: HKDF-SHA256 (RFC 5869) of the KEK, so it lives wherever the KEK does and nowhere else. A
 * KeyObject, because an HMAC keyed with a raw Buffer imports the key on every call (~40 µs with OpenSSL 3, against
 * ~4 µs): the audit row is written on the token hot path.
 */
export function deriveAuditKey(kek: Buffer): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'mandate audit chain v1', 32)));
}

function rowBody(row: RowBody): string {
  return JSON.stringify([row.seq, row.tsMs, row.event, row.actor, row.subject, row.clientId, row.ip, row.detail]);
}

/** The MAC of a row written with the audit key. */
export function auditRowMac(key: KeyObject, prevHash: string, row: RowBody): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(rowBody(row)).digest('hex');
}

/** The plain SHA-256 link of rows written before migration 020 (no key: anyone can recompute these). */
export function unkeyedAuditRowHash(prevHash: string, row: RowBody): string {
  return createHash('sha256').update(prevHash).update('\n').update(rowBody(row)).digest('hex');
}

/** The anchor's MAC. Its input starts with "anchor", a row's with 64 hex digits: the two can never be swapped. */
export function auditAnchorMac(key: KeyObject, anchor: Omit<AuditAnchor, 'mac'>): string {
  return createHmac('sha256', key).update(`anchor\n${JSON.stringify([anchor.seq, anchor.hash, anchor.keyedFromSeq])}`).digest('hex');
}

/** The retention checkpoint's MAC: its own input domain ("checkpoint"), so neither a row's nor the anchor's MAC fits. */
export function auditCheckpointMac(key: KeyObject, checkpoint: Omit<AuditCheckpoint, 'mac'>): string {
  return createHmac('sha256', key).update(`checkpoint\n${JSON.stringify([checkpoint.seq, checkpoint.hash])}`).digest('hex');
}

export function macsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Why an anchor cannot be trusted, or null when it can (a null `mac` is trusted only before anything is keyed). */
export function anchorProblem(key: KeyObject, anchor: AuditAnchor | null, lastRow: { seq: number; hash: string }): string | null {
  if (anchor === null) return 'the audit anchor is missing (audit_anchor was emptied)';
  if (anchor.mac === null) {
    const unadopted = anchor.keyedFromSeq === anchor.seq + 1 && anchor.seq === lastRow.seq && anchor.hash === lastRow.hash;
    return unadopted ? null : 'the audit anchor carries no MAC but rows were written after it';
  }
  if (!macsEqual(anchor.mac, auditAnchorMac(key, anchor))) {
    return 'the audit anchor does not verify with this key: it was altered, or this process has another KEK than the one that wrote it';
  }
  return null;
}
