import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../sql/driver.ts';

export interface SqliteOptions {
  /** `synchronous` pragma: NORMAL survives a process crash in WAL mode; FULL also survives power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
}

/**
 * The embedded store's connection: one `node:sqlite` handle per process in WAL mode, prepared statements cached
 * by their SQL text. node:sqlite is synchronous, so each call completes before it returns; the promises only give
 * both backends one shape.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** Set while a transaction is open, so calls from outside it wait instead of joining it. */
  #transactionDone: Promise<void> | null = null;

  constructor(path: string, options: SqliteOptions = {}) {
    const isNewFile = path !== ':memory:' && !existsSync(path);
    if (isNewFile) mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // Hashes and encrypted keys are still nobody else's business; SQLite gives its -wal/-shm files the same mode.
    if (isNewFile) chmodSync(path, 0o600);
    this.#db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.#db.exec('PRAGMA foreign_keys = ON');
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  readonly #direct: SqlExecutor = {
    all: async (sql, params = []) => this.#statement(sql).all(...params) as SqlRow[],
    get: async (sql, params = []) => this.#statement(sql).get(...params) as SqlRow | undefined,
    run: async (sql, params = []) => Number(this.#statement(sql).run(...params).changes),
  };

  async #outsideTransaction(): Promise<void> {
    while (this.#transactionDone) await this.#transactionDone;
  }

  async all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    if (this.#transactionDone) await this.#outsideTransaction();
    return this.#direct.all(sql, params);
  }

  async get(sql: string, params?: readonly SqlValue[]): Promise<SqlRow | undefined> {
    if (this.#transactionDone) await this.#outsideTransaction();
    return this.#direct.get(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    if (this.#transactionDone) await this.#outsideTransaction();
    return this.#direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // Inline, not via #outsideTransaction(): the check and the claim below must happen in the same tick.
    while (this.#transactionDone) await this.#transactionDone;
    let finish!: () => void;
    this.#transactionDone = new Promise((resolve) => (finish = resolve));
    try {
      // Inside the try: a BEGIN refused (SQLITE_BUSY past the busy timeout) must still release the claim above.
      this.#db.exec('BEGIN IMMEDIATE');
      const result = await fn(this.#direct);
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      // SQLite may have rolled back already (a full disk, an I/O error); the original error is the one to report.
      if (this.#db.isTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {}
      }
      throw err;
    } finally {
      this.#transactionDone = null;
      finish();
    }
  }

  /**
   * SQLite's `PRAGMA data_version`: changes whenever another connection (the CLI, another process) commits, and
   * only then. Cheap enough to ask before every cached read.
   */
  dataVersion(): number {
    return Number((this.#statement('PRAGMA data_version').get() as { data_version: number }).data_version);
  }

  async execScript(sql: string): Promise<void> {
    this.#db.exec(sql);
  }

  async close(): Promise<void> {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}
