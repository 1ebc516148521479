import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import { APPEND_AFTER } from '../../src/store/sql/audit-records.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/stores.ts';

/**
 * PERF-PG-01 the unlocked audit append (`appendAuditRowsAfter`) runs as a named prepared statement, and PostgreSQL
 * switches such a statement to a generic plan after a few executions. Under that plan "no row after the head" must
 * still be an index probe: written as `NOT EXISTS (… WHERE seq > $n)` it was a sequential scan of the whole audit
 * table on every append, and a PostgreSQL soak slowed down as the table grew.
 */
let database: TestDatabase;
let client: pg.Client;

before(async () => {
  database = await createTestDatabase('postgres');
  const store = await openStore(database.url);
  await store.migrate();
  await store.close();
  const schema = new URL(database.url).searchParams.get('schema')!;
  const url = new URL(database.url);
  url.search = '';
  if (!url.username) url.username = process.env['PGUSER'] ?? userInfo().username;
  client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`SET search_path = ${schema}`);
  // Enough rows that a scan costs more than a probe, and statistics that say so.
  await client.query(
    "INSERT INTO audit_log (seq, ts_ms, event, detail, prev_hash, hash) SELECT g, g, 'token.issued', '{}', 'p' || g, 'h' || g FROM generate_series(1, 50000) g",
  );
  await client.query('ANALYZE audit_log');
});
after(async () => {
  await client?.end();
  await database?.drop();
});

test('PERF-PG-01 the audit append after a head reads audit_log only through its primary key under a generic plan', async () => {
  let n = 0;
  const text = APPEND_AFTER.replace(/\?/g, () => `$${++n}`);
  const types = ['bigint', 'text', 'bigint', 'text', 'bigint', 'text', 'bigint', 'text', 'bigint', 'bigint', 'text'];
  assert.equal(n, types.length, 'the statement takes the parameters this test declares');
  await client.query('SET plan_cache_mode = force_generic_plan');
  await client.query(`PREPARE append_after (${types.join(', ')}) AS ${text}`);
  const plan = (await client.query("EXPLAIN EXECUTE append_after (50001, 'h', 1, NULL, 50000, 'h50000', 1, NULL, 50000, 1, '[]')")).rows
    .map((row: Record<string, string>) => row['QUERY PLAN'])
    .join('\n');
  assert.doesNotMatch(plan, /Seq Scan on audit_log/, plan);
  assert.match(plan, /Index Only Scan Backward using audit_log_pkey/, plan);
});
