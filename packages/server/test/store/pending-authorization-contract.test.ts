import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PendingAuthorizationRecord } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

function pending(idHash: string, overrides: Partial<PendingAuthorizationRecord> = {}): PendingAuthorizationRecord {
  return {
    idHash,
    sessionHash: 'session-a',
    clientId: 'app_1',
    actorId: 'agt_1',
    redirectUri: 'http://127.0.0.1:9000/cb',
    state: 'st',
    codeChallenge: 'c'.repeat(43),
    nonce: null,
    dpopJkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I',
    authorizationDetails: [{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: 'a'.repeat(43), locations: ['https://mcp.example.com/mcp'] }],
    scopes: ['openid', 'calc'],
    resources: ['https://mcp.example.com/mcp'],
    createdAt: 100,
    expiresAt: 700,
    ...overrides,
  };
}

forEachStore('store contract: pending authorization requests', (fixture) => {
  test('taken once by its own session: the record comes back whole, then it is gone', async () => {
    const record = pending('p-once');
    await fixture.store.createPendingAuthorization(record);
    assert.deepEqual(await fixture.store.takePendingAuthorization('p-once', 'session-a', 200), record);
    assert.equal(await fixture.store.takePendingAuthorization('p-once', 'session-a', 200), null);
  });

  test('another session cannot take it, and does not spend it for its own session', async () => {
    await fixture.store.createPendingAuthorization(pending('p-bound', { state: null, actorId: null, resources: [] }));
    assert.equal(await fixture.store.takePendingAuthorization('p-bound', 'session-b', 200), null);
    const taken = await fixture.store.takePendingAuthorization('p-bound', 'session-a', 200);
    assert.equal(taken?.state, null);
    assert.equal(taken?.actorId, null);
    assert.deepEqual(taken?.resources, []);
  });

  test('an expired request is not returned, and is spent all the same', async () => {
    await fixture.store.createPendingAuthorization(pending('p-expired', { expiresAt: 300 }));
    assert.equal(await fixture.store.takePendingAuthorization('p-expired', 'session-a', 300), null);
    await fixture.store.createPendingAuthorization(pending('p-expired', { expiresAt: 900 }));
    assert.ok(await fixture.store.takePendingAuthorization('p-expired', 'session-a', 300), 'the id was free to use again');
  });

  test('concurrent takes: exactly one gets the request', async () => {
    await fixture.store.createPendingAuthorization(pending('p-race'));
    const results = await Promise.all(Array.from({ length: 8 }, () => fixture.store.takePendingAuthorization('p-race', 'session-a', 200)));
    assert.equal(results.filter((r) => r !== null).length, 1);
  });

  test('purgeExpired removes requests past their expiry and keeps the others', async () => {
    await fixture.store.createPendingAuthorization(pending('p-old', { expiresAt: 1_000 }));
    await fixture.store.createPendingAuthorization(pending('p-new', { expiresAt: 5_000 }));
    await fixture.store.purgeExpired(2_000);
    assert.equal(await fixture.store.takePendingAuthorization('p-old', 'session-a', 900), null);
    assert.ok(await fixture.store.takePendingAuthorization('p-new', 'session-a', 2_000));
  });
});
