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

    test('SR-14 derivations recorded at once (one batch) each learn whether their own parents stand; revocation reaches every child', async () => {
      const store = fixture.store;
      await store.revokeTokenId('dead', 500, 1);
      const children = Array.from({ length: 300 }, (_, i) => ({ jti: `kid-${i}`, parents: i % 3 === 0 ? [`live-${i % 7}`, 'dead'] : [`live-${i % 7}`, `actor-${i % 5}`] }));
      const recorded = await Promise.all(children.map((c) => store.recordDerivation(c.jti, c.parents, 400, ['https://mcp.example.com'])));
      children.forEach((c, i) => assert.equal(recorded[i], !c.parents.includes('dead'), c.jti));
      for (const c of children) assert.equal(await store.isTokenIdRevoked(c.jti), c.parents.includes('dead'), c.jti);
      // Every child of actor-1 was recorded under it: revoking it revokes those still standing.
      const ofActor = children.filter((c) => c.parents.includes('actor-1'));
      assert.ok(ofActor.length > 0);
      assert.equal(await store.revokeTokenId('actor-1', 500, 1), ofActor.length);
      for (const c of ofActor) assert.equal(await store.isTokenIdRevoked(c.jti), true, c.jti);
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
