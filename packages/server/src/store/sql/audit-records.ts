import { AUDIT_GENESIS_HASH, type AuditAnchor, type AuditChainState, type AuditCheckpoint, type AuditFilter, type AuditRecords, type AuditRow } from '../store.ts';
import { type ColumnMap, decodeRow } from './columns.ts';
import type { SqlDriver, SqlRow, SqlValue } from './driver.ts';
import { insertIssuedRefreshTokens } from './grant-records.ts';
import { insertIssuedTransactionTokens } from './transaction-token-records.ts';

const auditColumns: ColumnMap<AuditRow> = {
  seq: { column: 'seq' },
  tsMs: { column: 'ts_ms' },
  event: { column: 'event' },
  actor: { column: 'actor' },
  subject: { column: 'subject' },
  clientId: { column: 'client_id' },
  ip: { column: 'ip' },
  detail: { column: 'detail', json: true },
  prevHash: { column: 'prev_hash' },
  hash: { column: 'hash' },
};

/** Lock key that serialises audit appends across PostgreSQL instances (SQLite's BEGIN IMMEDIATE does it there). */
const AUDIT_APPEND_LOCK = 0x6d6e_6b02;
const INSERT_COLUMNS = 'seq, ts_ms, event, actor, subject, client_id, ip, detail, prev_hash, hash';
const ROWS_PER_INSERT = 200;

function values(row: AuditRow): SqlValue[] {
  return [row.seq, row.tsMs, row.event, row.actor, row.subject, row.clientId, row.ip, JSON.stringify(row.detail), row.prevHash, row.hash];
}

/** The anchor and the last row in one statement: one round trip, and one snapshot of both. */
const CHAIN_STATE =
  'SELECT a.seq AS anchor_seq, a.hash AS anchor_hash, a.keyed_from_seq, a.mac, t.seq AS last_seq, t.hash AS last_hash' +
  ' FROM (SELECT 1 AS one) o' +
  ' LEFT JOIN audit_anchor a ON a.id = 1' +
  ' LEFT JOIN (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) t ON 1 = 1';

/**
 * appendAuditRowsAfter on PostgreSQL, in one statement (its own transaction): the anchor moves only if it is still
 * the caller's head, no row follows it and the append lock is free (tried, never waited for: a transaction of
 * appendAuditRows holding it is never overtaken between its read and its write); the rows, passed as one JSON array,
 * are inserted only if it moved. Two such statements from the same head: the second waits for the anchor's row lock,
 * re-checks its condition on the committed row and moves nothing. The chain state comes back with the count, from the
 * statement's snapshot, for the caller's next attempt. (`added` is referenced by nothing: a data-modifying CTE runs all the same.)
 * No row after the head is asked as `max(seq) <= head`, not `NOT EXISTS (… WHERE seq > $n)`: a prepared statement's
 * generic plan cannot tell that `seq > $n` matches nothing and scanned the whole table per append (a 10-minute soak
 * at 3,000/s fell from 3,000 to a few hundred appends per second as the table grew); `max` is one index probe.
 */
export const APPEND_AFTER =
  'WITH moved AS (' +
  'UPDATE audit_anchor SET seq = ?, hash = ?, keyed_from_seq = ?, mac = ?' +
  ' WHERE id = 1 AND seq = ? AND hash = ? AND keyed_from_seq = ? AND mac IS NOT DISTINCT FROM ?' +
  ' AND COALESCE((SELECT max(seq) FROM audit_log), 0) <= ? AND pg_try_advisory_xact_lock(?)' +
  ' RETURNING 1 AS moved), ' +
  `added AS (INSERT INTO audit_log (${INSERT_COLUMNS}) SELECT ${INSERT_COLUMNS}` +
  ' FROM json_to_recordset(?::json) AS r(seq bigint, ts_ms bigint, event text, actor text, subject text, client_id text, ip text, detail text, prev_hash text, hash text)' +
  ' WHERE EXISTS (SELECT 1 FROM moved)) ' +
  'SELECT (SELECT count(*) FROM moved) AS moved, a.seq AS anchor_seq, a.hash AS anchor_hash, a.keyed_from_seq, a.mac, t.seq AS last_seq, t.hash AS last_hash' +
  ' FROM (SELECT 1 AS one) o' +
  ' LEFT JOIN audit_anchor a ON a.id = 1' +
  ' LEFT JOIN (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) t ON 1 = 1';

const sameAnchor = (a: AuditAnchor | null, b: AuditAnchor) =>
  a !== null && a.seq === b.seq && a.hash === b.hash && a.keyedFromSeq === b.keyedFromSeq && a.mac === b.mac;

/** Migration 020 creates the one anchor row, and an append whose anchor is missing refuses before it gets here. */
const SAVE_ANCHOR = 'UPDATE audit_anchor SET seq = ?, hash = ?, keyed_from_seq = ?, mac = ? WHERE id = 1';
/** SQLite has no round trips to save: two cached statements are cheaper than one join. */
const ANCHOR = 'SELECT seq AS anchor_seq, hash AS anchor_hash, keyed_from_seq, mac FROM audit_anchor WHERE id = 1';
const LAST_ROW = 'SELECT seq AS last_seq, hash AS last_hash FROM audit_log ORDER BY seq DESC LIMIT 1';

export function auditRecords(db: SqlDriver): AuditRecords {
  const chainState = async (exec: Pick<SqlDriver, 'get'>): Promise<AuditChainState> =>
    decodeChainState(db.dialect === 'sqlite' ? { ...(await exec.get(ANCHOR)), ...(await exec.get(LAST_ROW)) } : (await exec.get(CHAIN_STATE))!);
  const decodeChainState = (row: SqlRow): AuditChainState => {
    const anchor: AuditAnchor | null =
      row['anchor_seq'] === null || row['anchor_seq'] === undefined
        ? null
        : {
            seq: Number(row['anchor_seq']),
            hash: String(row['anchor_hash']),
            keyedFromSeq: Number(row['keyed_from_seq']),
            mac: row['mac'] === null ? null : String(row['mac']),
          };
    const lastRow =
      row['last_seq'] === null || row['last_seq'] === undefined
        ? { seq: 0, hash: AUDIT_GENESIS_HASH }
        : { seq: Number(row['last_seq']), hash: String(row['last_hash']) };
    return { anchor, lastRow };
  };

  return {
    async appendAuditRows(build, records) {
      await db.transaction(async (tx) => {
        const state = await chainState(tx);
        // The tokens the rows record, in the same transaction: no token without its row, whatever crash comes, and
        // none at all when the batch fails (its `build` refusing the chain included).
        if (records?.refreshTokens?.length) await insertIssuedRefreshTokens(tx, records.refreshTokens);
        if (records?.transactionTokens?.length) await insertIssuedTransactionTokens(tx, records.transactionTokens);
        const { rows, anchor } = build(state);
        if (db.dialect === 'sqlite') {
          // One cached statement per row is the fastest path in SQLite (no round trips to save).
          for (const row of rows) await tx.run(`INSERT INTO audit_log (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, values(row));
        } else {
          for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
            const chunk = rows.slice(i, i + ROWS_PER_INSERT);
            const marks = chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
            await tx.run(`INSERT INTO audit_log (${INSERT_COLUMNS}) VALUES ${marks}`, chunk.flatMap(values));
          }
        }
        await tx.run(SAVE_ANCHOR, [anchor.seq, anchor.hash, anchor.keyedFromSeq, anchor.mac]);
      }, AUDIT_APPEND_LOCK);
    },

    async appendAuditRowsAfter(head, { rows, anchor }) {
      if (db.dialect === 'sqlite') {
        // No round trips to save: the locked transaction, with the same condition.
        return db.transaction(async (tx) => {
          const state = await chainState(tx);
          if (!sameAnchor(state.anchor, head) || state.lastRow.seq > head.seq) return { appended: false, state };
          for (const row of rows) await tx.run(`INSERT INTO audit_log (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, values(row));
          await tx.run(SAVE_ANCHOR, [anchor.seq, anchor.hash, anchor.keyedFromSeq, anchor.mac]);
          return { appended: true };
        });
      }
      const records = rows.map((row) => {
        const [seq, tsMs, event, actor, subject, clientId, ip, detail, prevHash, hash] = values(row);
        return { seq, ts_ms: tsMs, event, actor, subject, client_id: clientId, ip, detail, prev_hash: prevHash, hash };
      });
      const result = (await db.get(APPEND_AFTER, [
        anchor.seq, anchor.hash, anchor.keyedFromSeq, anchor.mac,
        head.seq, head.hash, head.keyedFromSeq, head.mac, head.seq, AUDIT_APPEND_LOCK,
        JSON.stringify(records),
      ]))!;
      return Number(result['moved']) === 1 ? { appended: true } : { appended: false, state: decodeChainState(result) };
    },

    async listAuditRows(filter: AuditFilter) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      const add = (clause: string, ...values: SqlValue[]) => {
        where.push(clause);
        params.push(...values);
      };
      if (filter.event !== undefined) add(filter.event.endsWith('*') ? 'event LIKE ?' : 'event = ?', filter.event.replace(/\*$/, '%'));
      if (filter.clientId !== undefined) add('client_id = ?', filter.clientId);
      if (filter.subject !== undefined) add('subject = ?', filter.subject);
      // The detail is kept as written (its hash must stay verifiable), so the tool is read out of its JSON text.
      if (filter.tool !== undefined) add(db.dialect === 'postgres' ? `(detail::jsonb ->> 'tool') = ?` : `json_extract(detail, '$.tool') = ?`, filter.tool);
      if (filter.principal !== undefined) add('(actor = ? OR subject = ? OR client_id = ?)', filter.principal, filter.principal, filter.principal);
      if (filter.sinceMs !== undefined) add('ts_ms >= ?', filter.sinceMs);
      if (filter.untilMs !== undefined) add('ts_ms < ?', filter.untilMs);
      if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq);
      const sql =
        `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
        ` ORDER BY seq ${filter.descending ? 'DESC' : 'ASC'} LIMIT ?`;
      params.push(filter.limit ?? 100);
      return (await db.all(sql, params)).map((row) => decodeRow(auditColumns, row));
    },

    auditChainState: () => chainState(db),

    async pruneAuditRows(throughSeq, seal) {
      return db.transaction(async (tx) => {
        const head = await tx.get('SELECT seq, hash FROM audit_log WHERE seq = ?', [throughSeq]);
        const current = await tx.get('SELECT seq FROM audit_checkpoint WHERE id = 1');
        if (!head || (current && Number(current['seq']) >= throughSeq)) return 0;
        const checkpoint = seal({ seq: Number(head['seq']), hash: String(head['hash']) });
        const deleted = await tx.run('DELETE FROM audit_log WHERE seq <= ?', [throughSeq]);
        await tx.run(
          'INSERT INTO audit_checkpoint (id, seq, hash, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac',
          [checkpoint.seq, checkpoint.hash, checkpoint.mac],
        );
        return deleted;
      }, AUDIT_APPEND_LOCK);
    },

    async auditCheckpoint(): Promise<AuditCheckpoint | null> {
      const row = await db.get('SELECT seq, hash, mac FROM audit_checkpoint WHERE id = 1');
      return row ? { seq: Number(row['seq']), hash: String(row['hash']), mac: String(row['mac']) } : null;
    },
  };
}
