import { unstorableText } from '../storable-text.ts';
import { StoreConflictError, StoreInputError, StoreUnavailableError } from '../store.ts';
import { isStoreUnavailable, unavailableReason } from './unavailable.ts';

/**
 * The little SQL both backends share. Statements are written once with `?` placeholders and portable SQL
 * (`ON CONFLICT`, `RETURNING` work in SQLite ≥3.35 and PostgreSQL); each driver adapts placeholders and types.
 */

export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<SqlRow | undefined>;
  /** Runs a write; resolves to the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction that takes the database's write lock first (SQLite `BEGIN IMMEDIATE`,
   * PostgreSQL an advisory transaction lock on `lockKey`), so read-modify-write sequences never interleave.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lockKey?: number): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  execScript(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Maps a driver's unique-violation error to a boolean without leaking SQL into messages. */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof StoreConflictError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown };
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  return e.code === 'ERR_SQLITE_ERROR' && (e.errcode === 2067 || e.errcode === 1555); // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
}

/** PostgreSQL's codes for text it cannot hold: invalid byte sequence (a NUL), untranslatable character (`\u0000` in jsonb). */
const UNSTORABLE_CODES = new Set(['22021', '22P05']);

function checkParams(params: readonly SqlValue[] | undefined): void {
  for (const value of params ?? []) {
    if (typeof value !== 'string') continue;
    const problem = unstorableText(value);
    if (problem) throw new StoreInputError(`the value contains ${problem}, which cannot be stored`);
  }
}

function translated(err: unknown): unknown {
  if (err instanceof StoreConflictError || err instanceof StoreInputError || err instanceof StoreUnavailableError) return err;
  if (isStoreUnavailable(err)) return new StoreUnavailableError(`the database is unavailable: ${unavailableReason(err)}`, { cause: err });
  if (isUniqueViolation(err)) return new StoreConflictError('a record with this key exists', { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNSTORABLE_CODES.has(code)) return new StoreInputError('the value cannot be stored', { cause: err });
  return err;
}

function guardedExecutor(db: SqlExecutor): SqlExecutor {
  return {
    async all(sql, params) {
      checkParams(params);
      try {
        return await db.all(sql, params);
      } catch (err) {
        throw translated(err);
      }
    },
    async get(sql, params) {
      checkParams(params);
      try {
        return await db.get(sql, params);
      } catch (err) {
        throw translated(err);
      }
    },
    async run(sql, params) {
      checkParams(params);
      try {
        return await db.run(sql, params);
      } catch (err) {
        throw translated(err);
      }
    },
  };
}

/**
 * The driver as the record families use it: every statement's string parameters are checked first (a NUL or an
 * unpaired surrogate is `StoreInputError`, on both dialects alike, before the database sees it), a unique
 * violation is `StoreConflictError` whichever statement raised it, and a lost connection, a lock held too long or a
 * full disk is `StoreUnavailableError` (sql/unavailable.ts).
 */
export function guardedDriver(db: SqlDriver): SqlDriver {
  const direct = guardedExecutor(db);
  return {
    dialect: db.dialect,
    ...direct,
    async transaction(fn, lockKey) {
      try {
        return await db.transaction((tx) => fn(guardedExecutor(tx)), lockKey);
      } catch (err) {
        throw translated(err);
      }
    },
    execScript: (sql) => db.execScript(sql),
    close: () => db.close(),
  };
}
