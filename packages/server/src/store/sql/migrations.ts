import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDriver } from './driver.ts';

/** Lock key that keeps two instances from migrating the same PostgreSQL database at once. */
const MIGRATION_LOCK = 0x6d6e_6b00;

/**
 * Applies the dialect's `NNN_name.sql` files in order, each in its own transaction, and records them in
 * `schema_migrations`. Returns the versions applied now.
 */
export async function applyMigrations(db: SqlDriver, directory: string): Promise<string[]> {
  await db.execScript('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
  const files = readdirSync(directory)
    .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
    .sort();
  const applied: string[] = [];
  for (const file of files) {
    const version = file.slice(0, -'.sql'.length);
    const done = await db.transaction(async (tx) => {
      if (await tx.get('SELECT version FROM schema_migrations WHERE version = ?', [version])) return true;
      const script = readFileSync(join(directory, file), 'utf8');
      // Scripts are split on `;` at line ends; none of ours has a `;` inside a statement.
      for (const statement of script.split(/;\s*$/m)) {
        if (statement.replace(/--.*$/gm, '').trim()) await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [version, Math.floor(Date.now() / 1000)]);
      return false;
    }, MIGRATION_LOCK);
    if (!done) applied.push(version);
  }
  return applied;
}
