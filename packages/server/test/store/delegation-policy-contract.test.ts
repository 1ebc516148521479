import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStore } from '../helpers/stores.ts';

/** Delegation-chain policies on both stores (issue 11 item 1). */
forEachStore(
  'store contract: delegation-chain policies',
  (fixture) => {
    test('a policy per resource and per agent: set, replace, remove; it goes when its owner is deleted', async () => {
      const store = fixture.store;
      const uri = 'https://mcp.example.com/mcp';
      await store.createResource({
        id: 'res_1',
        uri,
        name: 'MCP',
        scopes: [],
        defaultScopes: [], downstreamResources: [],
        apiKeyId: 'k',
        apiKeyHash: 'h',
        previousApiKeyId: null,
        previousApiKeyHash: null,
        previousApiKeyExpiresAt: null,
        apiKeySince: 0,
        previousApiKeySince: null,
        createdAt: 1,
        updatedAt: 1,
      });
      assert.equal(await store.getDelegationPolicy('resource', uri), null);
      await store.setDelegationPolicy('resource', uri, { max_depth: 2, allowed_actors: ['agt_a'] }, 10);
      await store.setDelegationPolicy('resource', uri, { require_human_root: true }, 11);
      assert.deepEqual(await store.getDelegationPolicy('resource', uri), { require_human_root: true });
      await store.setDelegationPolicy('agent', 'agt_a', { may_delegate_to: ['agt_b'] }, 12);
      assert.deepEqual(await store.getDelegationPolicy('agent', 'agt_a'), { may_delegate_to: ['agt_b'] });
      assert.equal(await store.getDelegationPolicy('agent', uri), null, 'owners of one kind only');
      await store.setDelegationPolicy('agent', 'agt_a', null, 13);
      assert.equal(await store.getDelegationPolicy('agent', 'agt_a'), null);
      assert.equal(await store.deleteResource('res_1', 1000), true);
      assert.equal(await store.getDelegationPolicy('resource', uri), null, 'deleted with its resource');
    });
  },
  { databasePer: 'test' },
);
