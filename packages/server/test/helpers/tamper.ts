import { userInfo } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { Dialect } from './stores.ts';

/** Runs raw SQL (`?` placeholders) against a database, as an attacker with database access would. */
export async function tamper(target: { dialect: Dialect; url: string }, sql: string, params: (string | number | null)[] = []): Promise<void> {
  if (target.dialect === 'sqlite') {
    const db = new DatabaseSync(target.url.slice('sqlite:'.length));
    db.prepare(sql).run(...params);
    db.close();
    return;
  }
  const url = new URL(target.url);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  if (!url.username) url.username = userInfo().username;
  const client = new pg.Client({ connectionString: url.toString(), options: `-c search_path=${schema}` });
  await client.connect();
  let n = 0;
  await client.query(sql.replace(/\?/g, () => `$${++n}`), params);
  await client.end();
}
