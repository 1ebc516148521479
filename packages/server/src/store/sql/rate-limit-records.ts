import type { RateLimitRecords } from '../store.ts';
import type { SqlExecutor } from './driver.ts';

/** Keys per statement: well under both databases' limits on bound parameters (3 per key). */
const CHUNK = 300;

export function rateLimitRecords(db: SqlExecutor): RateLimitRecords {
  return {
    async addRateLimitCounts(windowStart, counts) {
      const totals = new Map<string, number>();
      const entries = [...counts];
      for (let i = 0; i < entries.length; i += CHUNK) {
        const chunk = entries.slice(i, i + CHUNK);
        // One upsert per chunk: each instance adds what it counted, and reads back everyone's total.
        const rows = await db.all(
          `INSERT INTO rate_limit_counts (counter_key, window_start, count) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}
           ON CONFLICT (counter_key, window_start) DO UPDATE SET count = rate_limit_counts.count + excluded.count
           RETURNING counter_key, count`,
          chunk.flatMap(([key, count]) => [key, windowStart, count]),
        );
        for (const row of rows) totals.set(String(row['counter_key']), Number(row['count']));
      }
      return totals;
    },
  };
}
