import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStore } from '../helpers/stores.ts';

/** The token lineage on both stores: revoking a token revokes every descendant; a derivation racing a revocation loses. */
forEachStore(
  'store contract: token lineage',
  (fixture) => {
    test('SR-14 revokeTokenId revokes every descendant, however deep, and reports how many; siblings of the parent live on', async () => {
      const store = fixture.store;
      // root → a → b → c, root → d; other → e; b is also a child of other (two parents).
      assert.equal(await store.recordDerivation('a', ['root'], 500), true);
      assert.equal(await store.recordDerivation('b', ['a', 'other'], 400), true);
      assert.equal(await store.recordDerivation('c', ['b'], 300), true);
      assert.equal(await store.recordDerivation('d', ['root'], 500), true);
      assert.equal(await store.recordDerivation('e', ['other'], 500), true);
      assert.equal(await store.revokeTokenId('a', 500, 1), 2, 'b and c');
      for (const jti of ['a', 'b', 'c']) assert.equal(await store.isTokenIdRevoked(jti), true, jti);
      for (const jti of ['root', 'd', 'other', 'e']) assert.equal(await store.isTokenIdRevoked(jti), false, jti);
      assert.equal(await store.revokeTokenId('root', 600, 1), 1, 'only d is new');
      assert.equal(await store.revokeTokenId('root', 600, 1), 0, 'again: nothing new');
      assert.equal(await store.revokeTokenId('other', 600, 1), 1, 'e (b was revoked already)');
    });

    test('SR-14 a derivation recorded after its parent was revoked is refused and its token revoked', async () => {
      const store = fixture.store;
      await store.revokeTokenId('p', 500, 1);
      assert.equal(await store.recordDerivation('child', ['live', 'p'], 400), false);
      assert.equal(await store.isTokenIdRevoked('child'), true);
    });

    test('SR-14 lineage rows go with their child token’s expiry', async () => {
      const store = fixture.store;
      await store.recordDerivation('x', ['y'], 100);
      await store.purgeExpired(101);
      assert.equal(await store.revokeTokenId('y', 200, 1), 0, 'the expired child is no longer in the lineage');
    });
  },
  { databasePer: 'test' },
);
