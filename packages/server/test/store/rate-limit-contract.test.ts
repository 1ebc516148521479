import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStore } from '../helpers/stores.ts';

/** Store contract of the shared rate-limit counters (issue 13 item 1), on both stores. */
forEachStore(
  'rate-limit counters',
  (fixture) => {
    test('addRateLimitCounts adds to each key’s counter of a minute and returns every instance’s total; 0 only reads', async () => {
      const { store } = fixture;
      const window = 1_800_000_000;
      assert.deepEqual(await store.addRateLimitCounts(window, new Map([['token-client:a', 2], ['token-ip:127.0.0.1', 1]])), new Map([['token-client:a', 2], ['token-ip:127.0.0.1', 1]]));
      // Another instance adds its own counts to the same minute.
      assert.deepEqual(await store.addRateLimitCounts(window, new Map([['token-client:a', 3]])), new Map([['token-client:a', 5]]));
      assert.deepEqual(await store.addRateLimitCounts(window, new Map([['token-client:a', 0], ['token-client:b', 0]])), new Map([['token-client:a', 5], ['token-client:b', 0]]));
      // The next minute starts from nothing.
      assert.deepEqual(await store.addRateLimitCounts(window + 60, new Map([['token-client:a', 1]])), new Map([['token-client:a', 1]]));
      // Many keys at once (several statements).
      const many = new Map(Array.from({ length: 700 }, (_, i) => [`token-ip:10.0.${i >> 8}.${i & 255}`, 1] as const));
      const totals = await store.addRateLimitCounts(window, many);
      assert.equal(totals.size, 700);
      assert.ok([...totals.values()].every((total) => total === 1));
    });

    test('purgeExpired drops the counters of minutes more than two minutes past, and keeps the current ones', async () => {
      const { store } = fixture;
      const now = 1_800_000_600;
      await store.addRateLimitCounts(now - 180, new Map([['token-client:old', 7]]));
      await store.addRateLimitCounts(now - 60, new Map([['token-client:recent', 7]]));
      await store.purgeExpired(now);
      assert.deepEqual(await store.addRateLimitCounts(now - 180, new Map([['token-client:old', 0]])), new Map([['token-client:old', 0]]));
      assert.deepEqual(await store.addRateLimitCounts(now - 60, new Map([['token-client:recent', 0]])), new Map([['token-client:recent', 7]]));
    });
  },
  { databasePer: 'test' },
);
