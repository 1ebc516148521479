import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeviceAuthorizationRecord } from '../../src/store/store.ts';
import { StoreConflictError } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

let counter = 0;

function record(overrides: Partial<DeviceAuthorizationRecord> = {}): DeviceAuthorizationRecord {
  const n = ++counter;
  return {
    id: `dev_${n}`,
    deviceCodeHash: `device-hash-${n}`,
    userCodeHash: `user-hash-${n}`,
    clientId: 'app_1',
    scopes: ['calc'],
    resources: ['https://mcp.example.com/mcp'],
    status: 'pending',
    userId: null,
    authTime: null,
    amr: null,
    reason: null,
    pollInterval: 5,
    lastPolledAt: null,
    createdAt: 100,
    expiresAt: 700,
    decidedAt: null,
    usedAt: null,
    ...overrides,
  };
}

const approval = { status: 'approved' as const, userId: 'usr_1', authTime: 90, amr: ['pwd'], reason: null, scopes: ['calc'], resources: ['https://mcp.example.com/mcp'] };

forEachStore('store contract: device authorizations (RFC 8628)', (fixture) => {
  test('a user code hash is unique (the caller draws another); found by it', async () => {
    const first = record();
    await fixture.store.createDeviceAuthorization(first);
    await assert.rejects(fixture.store.createDeviceAuthorization(record({ userCodeHash: first.userCodeHash })), StoreConflictError);
    assert.deepEqual(await fixture.store.getDeviceAuthorizationByUserCode(first.userCodeHash), first);
    assert.equal(await fixture.store.getDeviceAuthorizationByUserCode('nope'), null);
  });

  test('polls: the first is on time; one sooner than the interval grows it by the step; another client’s poll changes nothing', async () => {
    const r = record();
    await fixture.store.createDeviceAuthorization(r);
    assert.equal(await fixture.store.pollDeviceAuthorization('unknown', 'app_1', 100, 5), null);
    assert.equal((await fixture.store.pollDeviceAuthorization(r.deviceCodeHash, 'app_1', 100, 5))!.tooSoon, false);
    assert.equal((await fixture.store.pollDeviceAuthorization(r.deviceCodeHash, 'app_2', 101, 5))!.tooSoon, false);
    const soon = await fixture.store.pollDeviceAuthorization(r.deviceCodeHash, 'app_1', 102, 5);
    assert.equal(soon!.tooSoon, true);
    const next = await fixture.store.pollDeviceAuthorization(r.deviceCodeHash, 'app_1', 112, 5);
    assert.equal(next!.record.pollInterval, 10);
    assert.equal(next!.tooSoon, false);
  });

  test('concurrent polls: exactly one is on time', async () => {
    const r = record({ lastPolledAt: 100 });
    await fixture.store.createDeviceAuthorization(r);
    const polls = await Promise.all(Array.from({ length: 4 }, () => fixture.store.pollDeviceAuthorization(r.deviceCodeHash, 'app_1', 105, 5)));
    assert.deepEqual(polls.map((p) => p!.tooSoon).sort(), [false, true, true, true]);
  });

  test('decided once, while pending and unexpired; used once among concurrent callers', async () => {
    const r = record();
    await fixture.store.createDeviceAuthorization(r);
    assert.equal(await fixture.store.useDeviceAuthorization(r.id, 200), false, 'a pending request cannot be used');
    const decisions = await Promise.all([fixture.store.decideDeviceAuthorization(r.id, approval, 200), fixture.store.decideDeviceAuthorization(r.id, { ...approval, status: 'denied' }, 200)]);
    assert.deepEqual(decisions.sort(), [false, true]);
    const expired = record();
    await fixture.store.createDeviceAuthorization(expired);
    assert.equal(await fixture.store.decideDeviceAuthorization(expired.id, approval, 700), false);

    const approved = record();
    await fixture.store.createDeviceAuthorization(approved);
    assert.equal(await fixture.store.decideDeviceAuthorization(approved.id, approval, 200), true);
    const stored = await fixture.store.getDeviceAuthorizationByUserCode(approved.userCodeHash);
    assert.equal(stored!.status, 'approved');
    assert.deepEqual(stored!.amr, ['pwd']);
    const uses = await Promise.all(Array.from({ length: 4 }, () => fixture.store.useDeviceAuthorization(approved.id, 210)));
    assert.deepEqual(uses.filter(Boolean).length, 1);
  });

  test('purgeExpired deletes requests past their expiry', async () => {
    const r = record({ expiresAt: 50 });
    await fixture.store.createDeviceAuthorization(r);
    await fixture.store.purgeExpired(60);
    assert.equal(await fixture.store.getDeviceAuthorizationByUserCode(r.userCodeHash), null);
  });
});
