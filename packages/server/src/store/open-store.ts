import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SqliteDriver } from './sqlite/sqlite-driver.ts';
import type { CacheVersion } from './read-cache.ts';
import { guardedDriver, type SqlDriver, type SqlRow } from './sql/driver.ts';
import { createSqlStore } from './sql/sql-store.ts';
import { type Store, StoreUnavailableError } from './store.ts';

const migrations = (dialect: 'sqlite' | 'postgres') => fileURLToPath(new URL(`./${dialect}/migrations/`, import.meta.url));

/**
 * Opens the store a database URL names (each driver, with its client library, is loaded only when a URL names it:
 * a SQLite deployment never loads `pg`, and the reverse):
 * - `sqlite:<path>` (relative to the working directory), `sqlite::memory:`;
 * - `postgres://user@host:port/db[?schema=name&pool=n]` (also `postgresql://`).
 * Migrations are not applied here; call `store.migrate()` (`mandate migrate`, and `serve` on start).
 */
export async function openStore(url: string, options: { sqliteSynchronous?: 'NORMAL' | 'FULL'; sqliteBusyTimeoutMs?: number } = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new TypeError('sqlite URL needs a path, e.g. sqlite:./.mandate/mandate.db');
    const [{ SqliteDriver }, { withReadCache }] = await Promise.all([import('./sqlite/sqlite-driver.ts'), import('./read-cache.ts')]);
    let driver: SqliteDriver;
    try {
      driver = new SqliteDriver(path, { synchronous: options.sqliteSynchronous, busyTimeoutMs: options.sqliteBusyTimeoutMs });
    } catch (err) {
      throw new StoreUnavailableError(`cannot open the database ${url}: ${failureReason(err)}`, { cause: err });
    }
    const dataVersion = () => driver.dataVersion();
    return withReadCache(createSqlStore(driver, migrations('sqlite')), { read: dataVersion, afterWrite: dataVersion }, dataVersion());
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    const pool = parsed.searchParams.get('pool');
    parsed.searchParams.delete('schema');
    parsed.searchParams.delete('pool');
    // As libpq does: no user in the URL means the operating-system user.
    if (!parsed.username) parsed.username = process.env['PGUSER'] ?? userInfo().username;
    const [{ PostgresDriver }, { withReadCache }] = await Promise.all([import('./postgres/postgres-driver.ts'), import('./read-cache.ts')]);
    const driver = new PostgresDriver(parsed.toString(), { schema, poolSize: pool ? Number(pool) : undefined });
    try {
      // Connect now, so that an unreachable database is reported as such rather than by the first query.
      await driver.ensureSchema();
      await driver.get('SELECT 1');
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw new StoreUnavailableError(`cannot reach the database ${withoutPassword(url)}: ${failureReason(err)}`, { cause: err });
    }
    // The shared cache version (migration 064): every instance advances it after its writes, and reads it once per turn.
    return withReadCache(createSqlStore(driver, migrations('postgres')), postgresCacheVersion(guardedDriver(driver)), -1);
  }
  throw new TypeError(`database URL must start with sqlite: or postgres://, got "${withoutPassword(url)}"`);
}

/**
 * The read cache's version on PostgreSQL: the `cache_version` sequence, advanced after every write through the store
 * (by any instance) and read once per event-loop turn. Before migration 064 has run (a fresh database: `serve`
 * migrates after opening), the version reads as -1 and writes do not advance it; the cache is then only this
 * instance's (the CLI's migrate, or the server starting).
 */
function postgresCacheVersion(driver: Pick<SqlDriver, 'get'>): CacheVersion {
  const value = (row: SqlRow | undefined) => Number(row?.['v'] ?? -1);
  const missing = (err: unknown) => {
    if ((err as { code?: unknown } | null)?.code === '42P01') return -1; // undefined_table: not migrated yet
    throw err;
  };
  return {
    read: () => driver.get('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM cache_version').then(value, missing),
    afterWrite: () => driver.get("SELECT nextval('cache_version') AS v").then(value, missing),
  };
}

const withoutPassword = (url: string) => url.replace(/\/\/([^@/]*)@/, (_, userinfo: string) => `//${userinfo.split(':')[0]}@`);

/** One line saying why: a refused connection arrives as an AggregateError (one error per address tried). */
function failureReason(err: unknown): string {
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  const message = inner instanceof Error ? inner.message : String(inner);
  return (message || (inner as { code?: string }).code || 'unknown error').split('\n')[0]!;
}
