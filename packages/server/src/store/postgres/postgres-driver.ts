import pg from 'pg';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../sql/driver.ts';

export interface PostgresOptions {
  /** Schema to use (created if missing); from `?schema=` in the URL. Tests get a fresh one per run. */
  schema?: string;
  /** Pool size; from `?pool=` in the URL. */
  poolSize?: number;
}

const INT8_OID = 20;
// Epoch milliseconds and sequence numbers fit in a double; parse BIGINT as number rather than string.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Shared SQL uses `?`; PostgreSQL wants `$1..$n`. Our statements never contain a literal `?`. */
const converted = new Map<string, string>();
function toPositional(sql: string): string {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    converted.set(sql, out);
  }
  return out;
}

/**
 * Prepared statements: each connection parses and plans a named statement once, then only binds and executes it.
 * Only the statements the record families repeat (plain DML; at most PREPARED_MAX distinct texts, so SQL built with
 * a varying number of rows cannot make every connection hold statements without bound); the rest go unnamed.
 */
const PREPARED_MAX = 500;
const statementNames = new Map<string, string>();
const PREPARABLE = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i;
function statement(sql: string, params: readonly SqlValue[]): pg.QueryConfig<SqlValue[]> {
  const text = toPositional(sql);
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < PREPARED_MAX && PREPARABLE.test(sql)) {
    name = `mandate_${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name === undefined ? { text, values: params as SqlValue[] } : { name, text, values: params as SqlValue[] };
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async all(sql, params = []) {
      return (await client.query(statement(sql, params))).rows as SqlRow[];
    },
    async get(sql, params = []) {
      return (await client.query(statement(sql, params))).rows[0] as SqlRow | undefined;
    },
    async run(sql, params = []) {
      return (await client.query(statement(sql, params))).rowCount ?? 0;
    },
  };
}

/** A pooled `pg` connection for running several Mandate instances on one database. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres';
  readonly #pool: pg.Pool;
  readonly #direct: SqlExecutor;
  readonly #schema: string | undefined;

  constructor(connectionString: string, options: PostgresOptions = {}) {
    this.#schema = options.schema;
    if (this.#schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(this.#schema)) {
      throw new TypeError(`schema must match [a-z_][a-z0-9_]*, got "${this.#schema}"`);
    }
    this.#pool = new pg.Pool({
      connectionString,
      max: options.poolSize ?? 10,
      // A database that does not answer a new connection (a black-holed failover) fails the request (503) instead of
      // holding it for ever.
      connectionTimeoutMillis: 10_000,
      types,
      ...(this.#schema ? { options: `-c search_path=${this.#schema}` } : {}),
    });
    // An idle client's connection error must not crash the process; the pool replaces the client.
    this.#pool.on('error', () => {});
    this.#direct = executor(this.#pool);
  }

  /** Creates the schema named in the URL, if any, before migrations run in it. */
  async ensureSchema(): Promise<void> {
    if (this.#schema) await this.#pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
  }

  all(sql: string, params?: readonly SqlValue[]) {
    return this.#direct.all(sql, params);
  }
  get(sql: string, params?: readonly SqlValue[]) {
    return this.#direct.get(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]) {
    return this.#direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lockKey?: number): Promise<T> {
    const client = await this.#pool.connect();
    /** Set when the connection fails or ROLLBACK does: it is gone or in an unknown state, and is destroyed, not pooled. */
    let broken: Error | undefined;
    // A checked-out client has no pool listener: without this one, a connection reset mid-transaction (a failover)
    // would be an uncaught 'error' event and end the process. The statement under way is rejected all the same.
    const onConnectionError = (err: Error) => (broken = err);
    client.on('error', onConnectionError);
    try {
      await client.query('BEGIN');
      if (lockKey !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey]);
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      const rollbackError = await client.query('ROLLBACK').then(
        () => undefined,
        (failed: unknown) => (failed instanceof Error ? failed : new Error(String(failed))),
      );
      broken ??= rollbackError;
      throw err;
    } finally {
      // A broken connection keeps its listener: it may still report errors while the pool ends it.
      if (!broken) client.off('error', onConnectionError);
      client.release(broken);
    }
  }

  async execScript(sql: string): Promise<void> {
    await this.#pool.query(sql);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
