import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

export type Dialect = 'sqlite' | 'postgres';

/** PostgreSQL for tests: the machine's server (trust auth, database `test`) unless MANDATE_TEST_POSTGRES_URL says otherwise. */
export const TEST_POSTGRES_URL = process.env['MANDATE_TEST_POSTGRES_URL'] ?? 'postgres://127.0.0.1:5432/test';

/**
 * Every PostgreSQL test schema is named `<prefix>_t<epoch seconds>_<random>`. The prefix (MANDATE_TEST_SCHEMA_PREFIX,
 * default `mandate_test`) tells the schemas of runs sharing one database apart; the creation time lets any run drop
 * what a killed run left behind.
 */
const SCHEMA_PREFIX = process.env['MANDATE_TEST_SCHEMA_PREFIX'] || 'mandate_test';
if (!/^[a-z_][a-z0-9_]{0,29}$/.test(SCHEMA_PREFIX)) {
  throw new TypeError(`MANDATE_TEST_SCHEMA_PREFIX must be a lower-case SQL identifier of at most 30 characters, not ${JSON.stringify(SCHEMA_PREFIX)}`);
}
const TEST_SCHEMA_NAME = /^[a-z_][a-z0-9_]*_t(\d{10})_[0-9a-f]{12}$/;
/** Older than this, a test schema belongs to no running suite: suites last minutes. */
const STALE_SCHEMA_SECONDS = 86_400;

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(TEST_POSTGRES_URL);
  if (!admin.username) admin.username = process.env['PGUSER'] ?? userInfo().username;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops test schemas (of any prefix) created more than a day ago: a run killed before its `after` hooks leaves its
 * schemas behind, and nothing else would ever remove them. Best effort, once per test process: another run may be
 * dropping the same schema at the same moment.
 */
async function dropStaleTestSchemas(): Promise<void> {
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE '%\\_t%'");
    const staleBefore = Math.floor(Date.now() / 1000) - STALE_SCHEMA_SECONDS;
    for (const { nspname } of rows) {
      const created = TEST_SCHEMA_NAME.exec(nspname)?.[1];
      if (created === undefined || Number(created) >= staleBefore) continue;
      await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`).catch(() => {});
    }
  });
}
let staleSchemasDropped: Promise<void> | undefined;

export interface TestDatabase {
  /** A URL naming a fresh empty database: a temporary SQLite file or a new PostgreSQL schema. */
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh empty database for one backend. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-test-'));
    return { url: `sqlite:${join(dir, 'mandate.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  staleSchemasDropped ??= dropStaleTestSchemas().catch(() => {});
  await staleSchemasDropped;
  const schema = `${SCHEMA_PREFIX}_t${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    drop: () => withAdminClient(async (client) => void (await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))),
  };
}

export interface StoreFixture {
  readonly dialect: Dialect;
  /** The database URL, for starting servers or CLI processes on the same data. */
  readonly url: string;
  /** A migrated store on that database, open for the whole suite (or the test, with `databasePer: 'test'`). */
  readonly store: Store;
}

export interface StoreSuiteOptions {
  /**
   * `suite` (the default): one database for the suite, made in `before`; its tests share it, so each creates the
   * records it needs under names of its own. `test`: a fresh database for every test, for contract tests that assert
   * on everything in the store (a list's length, the audit chain from seq 1, the only active key).
   */
  databasePer?: 'suite' | 'test';
}

/**
 * Runs the same suite once on SQLite and once on PostgreSQL, each on a fresh migrated database that is
 * dropped when the suite (or each test) ends. Read `fixture.store` and `fixture.url` inside tests or hooks, not at
 * definition time.
 */
export function forEachStore(name: string, suite: (fixture: StoreFixture) => void, options: StoreSuiteOptions = {}): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${name} [${dialect}]`, () => {
      let database: TestDatabase | undefined;
      let store: Store | undefined;
      const fixture: StoreFixture = {
        dialect,
        get url() {
          if (!database) throw new Error('the store fixture is ready only inside tests and hooks');
          return database.url;
        },
        get store() {
          if (!store) throw new Error('the store fixture is ready only inside tests and hooks');
          return store;
        },
      };
      const open = async () => {
        database = await createTestDatabase(dialect);
        store = await openStore(database.url);
        await store.migrate();
      };
      const close = async () => {
        await store?.close();
        await database?.drop();
        store = undefined;
        database = undefined;
      };
      if (options.databasePer === 'test') beforeEach(open);
      else before(open);
      suite(fixture);
      // Registered after the suite's own hooks, so it runs after them: a server the suite closes in its `after`
      // still has its database while it writes its last audit rows.
      if (options.databasePer === 'test') afterEach(close);
      else after(close);
    });
  }
}
