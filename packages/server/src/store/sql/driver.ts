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
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown };
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  return e.code === 'ERR_SQLITE_ERROR' && (e.errcode === 2067 || e.errcode === 1555); // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
}
