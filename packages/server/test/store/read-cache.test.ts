import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientRecord } from '../../src/store/store.ts';
import { forEachStore } from '../helpers/stores.ts';

const client = (clientId: string): ClientRecord => ({
  clientId,
  kind: 'agent',
  name: `agent ${clientId}`,
  description: null,
  owner: 'owner@example.com',
  status: 'active',
  allowedScopes: ['calc'],
  defaultScopes: ['calc'],
  allowedAudiences: ['https://mcp.example.com/mcp'],
  txnTokensAllowed: false,
  accessTokenTtlSeconds: null,
  tokenEndpointAuthMethod: 'client_secret_basic',
  secretHash: 'a'.repeat(64),
  previousSecretHash: null,
  previousSecretExpiresAt: null,
  jwks: null,
  redirectUris: [],
  grantTypes: ['client_credentials'],
  tokensValidAfter: 0,
  createdAt: 1000,
  updatedAt: 1000,
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * store/read-cache.ts: what every instance runs each poll interval (claiming due CIBA pings and webhook deliveries,
 * closing expired approval requests) touches no cached record, so it must not empty the cache: on PostgreSQL such a
 * "write" also advanced `cache_version`, and every instance then read its clients and resources again, once per
 * interval per instance (issue 13: measured as 0.17 statements per token with two instances). A cached read returns
 * the very object it cached; a read from the database, a new one.
 */
forEachStore('read cache', (fixture) => {
  test('ISSUE13 the poll-interval jobs keep the cached records; a write through the store clears them', async () => {
    const store = fixture.store;
    await store.createClient(client('agt_cached'));
    await nextTurn();
    const first = await store.getClient('agt_cached');
    assert.ok(first);
    assert.equal(await store.getClient('agt_cached'), first, 'read twice: the cached object');
    const now = 2_000_000_000;
    await store.claimDueCibaPings(now, 30, 10);
    await store.claimDueWebhookDeliveries(now, 30, 10);
    await store.claimDueApprovalDeliveries(now, 30, 10);
    await store.expireApprovalRequests(now);
    await nextTurn();
    assert.equal(await store.getClient('agt_cached'), first, 'after the jobs, in a later turn: still the cached object');
    await store.createClient(client('agt_other'));
    await nextTurn();
    const reread = await store.getClient('agt_cached');
    assert.notEqual(reread, first, 'a write cleared the cache');
    assert.deepEqual(reread, first);
  });
});
