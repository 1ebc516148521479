import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

export type Dialect = 'sqlite' | 'postgres';

/** PostgreSQL for tests: the machine's server (trust auth, database `test`) unless MANDATE_TEST_POSTGRES_URL says otherwise. */
export const TEST_POSTGRES_URL = process.env['MANDATE_TEST_POSTGRES_URL'] ?? 'postgres://127.0.0.1:5432/test';

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
  const schema = `mandate_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    async drop() {
      const admin = new URL(TEST_POSTGRES_URL);
      if (!admin.username) admin.username = process.env['PGUSER'] ?? userInfo().username;
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

export interface StoreFixture {
  readonly dialect: Dialect;
  /** The database URL, for starting servers or CLI processes on the same data. */
  readonly url: string;
  /** A migrated store on that database, open for the whole suite. */
  readonly store: Store;
}

/**
 * Runs the same suite once on SQLite and once on PostgreSQL, each on a fresh migrated database that is
 * dropped when the suite ends. Read `fixture.store` and `fixture.url` inside tests or hooks, not at definition time.
 */
export function forEachStore(name: string, suite: (fixture: StoreFixture) => void): void {
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
      before(async () => {
        database = await createTestDatabase(dialect);
        store = await openStore(database.url);
        await store.migrate();
      });
      suite(fixture);
      // Registered after the suite's own hooks, so it runs after them: a server the suite closes in its `after`
      // still has its database while it writes its last audit rows.
      after(async () => {
        await store?.close();
        await database?.drop();
      });
    });
  }
}
