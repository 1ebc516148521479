import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PushedAuthorizationRecord } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

function pushed(uriHash: string, overrides: Partial<PushedAuthorizationRecord> = {}): PushedAuthorizationRecord {
  return { uriHash, clientId: 'app_1', params: 'client_id=app_1&response_type=code&scope=calc', createdAt: 100, expiresAt: 160, ...overrides };
}

forEachStore('store contract: pushed authorization requests (RFC 9126)', (fixture) => {
  test('PAR-03 taken once, by the client that pushed it, before it expires', async () => {
    const record = pushed('u-once');
    await fixture.store.createPushedAuthorization(record);
    assert.equal(await fixture.store.takePushedAuthorization('u-once', 'app_2', 120), null, 'another client');
    assert.deepEqual(await fixture.store.takePushedAuthorization('u-once', 'app_1', 120), record, 'left in place by the other client');
    assert.equal(await fixture.store.takePushedAuthorization('u-once', 'app_1', 120), null, 'used once');
    await fixture.store.createPushedAuthorization(pushed('u-late'));
    assert.equal(await fixture.store.takePushedAuthorization('u-late', 'app_1', 160), null, 'expired at expiresAt');
  });

  test('of concurrent uses of one request_uri exactly one gets it; expired ones are purged', async () => {
    await fixture.store.createPushedAuthorization(pushed('u-race'));
    const results = await Promise.all(Array.from({ length: 8 }, () => fixture.store.takePushedAuthorization('u-race', 'app_1', 120)));
    assert.equal(results.filter((r) => r !== null).length, 1);
    await fixture.store.createPushedAuthorization(pushed('u-old', { expiresAt: 1_000 }));
    await fixture.store.createPushedAuthorization(pushed('u-new', { expiresAt: 5_000 }));
    assert.ok((await fixture.store.purgeExpired(2_000)) >= 1);
    assert.ok(await fixture.store.takePushedAuthorization('u-new', 'app_1', 2_000));
  });
});
