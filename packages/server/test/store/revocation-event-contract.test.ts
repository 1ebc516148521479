import assert from 'node:assert/strict';
import { test } from 'node:test';
import { revocationEventConcerns } from '@mandate/protocol';
import { forEachStore } from '../helpers/stores.ts';

/** The revocation event log on both stores: every revoking write appends one event, in order, kept until its tokens expire. */
forEachStore(
  'store contract: revocation events',
  (fixture) => {
    test('revokeTokenId appends one event naming the token and its descendants; a repeat appends none', async () => {
      const store = fixture.store;
      assert.equal(await store.lastRevocationEventId(), 0);
      let wakes = 0;
      const stop = store.onRevocationEvent(() => wakes++);
      await store.recordDerivation('child', ['root'], 500);
      await store.recordDerivation('grandchild', ['child'], 400);
      await store.revokeTokenId('root', 600, 10);
      await store.revokeTokenId('root', 600, 11);
      stop();
      const events = await store.listRevocationEvents(0, 10);
      assert.equal(events.length, 1);
      assert.equal(wakes, 1);
      assert.deepEqual([...events[0]!.event.jti!].sort(), ['child', 'grandchild', 'root']);
      assert.equal(events[0]!.createdAt, 10);
      assert.equal(await store.lastRevocationEventId(), events[0]!.id);
      // Kept until the last token it names would have expired (600), then purged.
      await store.purgeExpired(600);
      assert.equal((await store.listRevocationEvents(0, 10)).length, 1);
      await store.purgeExpired(601);
      assert.equal((await store.listRevocationEvents(0, 10)).length, 0);
    });

    test('an event names the audiences of every token it revokes (the token’s, its lineage’s); unknown for one, it names none', async () => {
      const store = fixture.store;
      await store.recordDerivation('child', ['root'], 500, ['https://b.example/mcp']);
      await store.recordDerivation('grandchild', ['child'], 400, ['https://c.example/mcp', 'https://b.example/mcp']);
      await store.revokeTokenId('root', 600, 10, ['https://a.example/mcp']);
      await store.recordDerivation('unknown-child', ['other-root'], 500);
      await store.revokeTokenId('other-root', 600, 11, ['https://a.example/mcp']);
      await store.revokeTokenId('no-audiences', 600, 12);
      const [known, unknown, none] = (await store.listRevocationEvents(0, 10)).map((e) => e.event);
      assert.deepEqual([...known!.aud!].sort(), ['https://a.example/mcp', 'https://b.example/mcp', 'https://c.example/mcp']);
      assert.deepEqual([...known!.jti!].sort(), ['child', 'grandchild', 'root']);
      assert.equal(unknown!.aud, undefined, 'a lineage row without audiences: the event goes to every resource');
      assert.equal(none!.aud, undefined);
    });

    test('events are listed after an id, oldest first, at most `limit`', async () => {
      const store = fixture.store;
      for (const jti of ['a', 'b', 'c']) await store.revokeTokenId(jti, 100, 1);
      const all = await store.listRevocationEvents(0, 10);
      assert.deepEqual(all.map((e) => e.event.jti), [['a'], ['b'], ['c']]);
      assert.ok(all[0]!.id < all[1]!.id && all[1]!.id < all[2]!.id);
      assert.deepEqual((await store.listRevocationEvents(all[0]!.id, 1)).map((e) => e.event.jti), [['b']]);
      assert.deepEqual(await store.listRevocationEvents(all[2]!.id, 10), []);
    });

    test('webhook deliveries: each event queued once per webhook from its cursor on; a claim leases a delivery from other claimers', async () => {
      const store = fixture.store;
      await store.revokeTokenId('before', 100, 1);
      const hook = { url: 'https://hooks.example/r', secretEncrypted: 'v1.x', lastEventId: await store.lastRevocationEventId(), createdAt: 1 };
      await store.setRevocationWebhook({ ...hook, resourceId: 'res_a' });
      await store.setRevocationWebhook({ ...hook, resourceId: 'res_b' });
      await store.revokeTokenId('after', 100, 2);
      assert.equal(await store.enqueueWebhookDeliveries(5, revocationEventConcerns), 2, 'the new event, once per webhook; not the one before');
      assert.equal(await store.enqueueWebhookDeliveries(6, revocationEventConcerns), 0, 'queued once');
      const claimed = await store.claimDueWebhookDeliveries(10, 60, 10);
      assert.deepEqual(claimed.map((c) => [c.delivery.resourceId, c.event?.jti]).sort(), [['res_a', ['after']], ['res_b', ['after']]]);
      assert.deepEqual(await store.claimDueWebhookDeliveries(10, 60, 10), [], 'leased');
      const { eventId } = claimed[0]!.delivery;
      await store.recordWebhookAttempt('res_a', eventId, { status: 'delivered', attempts: 1, nextAttemptAt: 10, lastResult: 'HTTP 204', updatedAt: 10 });
      assert.equal((await store.claimDueWebhookDeliveries(71, 60, 10)).length, 1, 'only the undelivered one comes back after its lease');
      assert.deepEqual((await store.listWebhookDeliveries('res_a', 10)).map((d) => [d.status, d.attempts, d.lastResult]), [['delivered', 1, 'HTTP 204']]);
      assert.equal(await store.deleteRevocationWebhook('res_a'), true);
      assert.deepEqual(await store.listWebhookDeliveries('res_a', 10), []);
    });
  },
  { databasePer: 'test' },
);
