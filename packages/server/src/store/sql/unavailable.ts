/**
 * Which driver errors mean "the database cannot serve this now" (a dropped or refused connection, a failover, a lock
 * held past the busy timeout, a full disk) rather than a bug or bad input. These become StoreUnavailableError, which
 * the HTTP layer answers 503 with Retry-After: the transaction they interrupted was rolled back or never reached the
 * database, so a retry is safe (docs/security.md, "Fault tolerance").
 */

/** Socket failures reaching the database: refused, reset, timed out, unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01–57P03 (the server shutting down or starting: a
 * failover), 53xxx (insufficient resources: disk full, out of memory, too many connections), 40001/40P01 (a
 * serialization failure or deadlock victim, rolled back and safe to retry).
 */
function isPostgresTransient(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || ['57P01', '57P02', '57P03', '40001', '40P01'].includes(code);
}

/** node-postgres reports a connection lost without a socket error code: these messages are its own, stable words. */
const PG_CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)/;

/** SQLite primary result codes (the low byte of an extended code): BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN. */
const SQLITE_TRANSIENT = new Set([5, 6, 8, 10, 13, 14]);

export function isStoreUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  // A refused connection to a host with several addresses is an AggregateError of one error per address.
  if (err instanceof AggregateError && err.errors.length > 0 && err.errors.every(isStoreUnavailable)) return true;
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code)) return true;
    if (e.code === 'ERR_SQLITE_ERROR') return typeof e.errcode === 'number' && SQLITE_TRANSIENT.has(e.errcode & 0xff);
    if (/^[0-9A-Z]{5}$/.test(e.code)) return isPostgresTransient(e.code);
  }
  return typeof e.message === 'string' && PG_CONNECTION_LOST.test(e.message);
}

/**
 * Why, in a few words for the log and the CLI: SQLite's own text ("database is locked", "database or disk is full") or
 * the connection's error, first line only. These errors quote no statement and no value.
 */
export function unavailableReason(err: unknown): string {
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  const e = (inner ?? {}) as { errstr?: unknown; message?: unknown; code?: unknown };
  const text = typeof e.errstr === 'string' ? e.errstr : typeof e.message === 'string' && e.message ? e.message : String(e.code ?? 'unknown error');
  return text.split('\n')[0]!;
}
