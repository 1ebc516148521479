import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { deriveAuditKey } from '../../src/audit/audit-chain.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

/**
 * Issue 13: several instances append to one audit chain. Each AuditLog first appends without the lock, on the head it
 * committed last, and on a conflict builds again on the head it is shown (verified like any other writer's) before it
 * falls back to the append lock. Three logs, each over its own connection(s) to one database, as three instances are,
 * record at once, batch after batch: every event is committed exactly once and the chain verifies.
 */
forEachStore('audit chain written by several instances', (fixture) => {
  const key = deriveAuditKey(randomBytes(32));
  const stores: Store[] = [];
  before(async () => {
    for (let i = 0; i < 3; i++) stores.push(await openStore(fixture.url));
  });
  after(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  test('ISSUE13-audit three writers racing batch after batch: every row once, one verifiable chain', async (t) => {
    // Which path each batch took, observed on the real stores' calls.
    const calls = { appended: 0, conflicts: 0, locked: 0 };
    const observed = (store: Store): Store =>
      Object.assign(Object.create(store) as Store, {
        appendAuditRowsAfter: async (...args: Parameters<Store['appendAuditRowsAfter']>) => {
          const result = await store.appendAuditRowsAfter(...args);
          calls[result.appended ? 'appended' : 'conflicts'] += 1;
          return result;
        },
        appendAuditRows: (build: Parameters<Store['appendAuditRows']>[0]) => {
          calls.locked += 1;
          return store.appendAuditRows(build);
        },
      });
    const logs = stores.map((store) => new AuditLog(observed(store), key));
    const TURNS = 40;
    const PER_TURN = 5;
    // Each writer records a batch's worth and waits for its commit, then the next: batches race the others' batches.
    await Promise.all(
      logs.map(async (log, writer) => {
        for (let turn = 0; turn < TURNS; turn++) {
          await Promise.all(Array.from({ length: PER_TURN }, (_, i) => log.record({ event: 'token.issued', actor: `writer-${writer}`, detail: { turn, i } })));
        }
      }),
    );
    const report = await logs[0]!.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    const rows = await fixture.store.listAuditRows({ limit: 10_000 });
    assert.equal(rows.length, 3 * TURNS * PER_TURN);
    assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: rows.length }, (_, i) => i + 1));
    // Each log's first batch takes the lock (no head of its own yet); later ones go without it, some after meeting a
    // head another writer moved. How many of each depends on the machine's timing, so only that both paths ran.
    t.diagnostic(`appended without the lock ${calls.appended}, conflicts ${calls.conflicts}, under the lock ${calls.locked}`);
    assert.ok(calls.appended > 0 && calls.conflicts > 0 && calls.locked >= 3, JSON.stringify(calls));
    for (let writer = 0; writer < 3; writer++) {
      const mine = rows.filter((r) => r.actor === `writer-${writer}`).map((r) => `${r.detail['turn']}.${r.detail['i']}`);
      assert.equal(new Set(mine).size, TURNS * PER_TURN, `writer ${writer}: each event once`);
    }
  });
});
