import { userInfo } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { StoreFixture } from './stores.ts';

/**
 * The number of rows in every table of a fixture's database, read directly (not through the store), to show that a
 * request wrote nothing: compare two snapshots.
 */
export async function rowCounts(fixture: Pick<StoreFixture, 'dialect' | 'url'>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  if (fixture.dialect === 'sqlite') {
    const db = new DatabaseSync(fixture.url.slice('sqlite:'.length), { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
      for (const { name } of tables) counts[name] = Number((db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n);
    } finally {
      db.close();
    }
    return counts;
  }
  const url = new URL(fixture.url);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  if (!url.username) url.username = userInfo().username;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    for (const { table_name } of rows) counts[table_name] = Number((await client.query(`SELECT count(*) AS n FROM "${schema}"."${table_name}"`)).rows[0].n);
  } finally {
    await client.end();
  }
  return counts;
}
