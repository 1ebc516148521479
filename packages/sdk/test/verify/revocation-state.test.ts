import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessTokenClaims } from '@mandate/protocol';
import { RevocationState } from '../../src/verify/revocation-state.ts';

/**
 * Issue 11 item 7: the revocation subscriber's memory is bounded. Each entry is forgotten once its event's `exp` has
 * passed (nothing it named can be alive then), and at most `maxEntries` are kept, the oldest going first; what had
 * to be forgotten early makes older tokens uncertain (introspected or refused), so the bound never fails open.
 */

const claims = (jti: string, extra: Partial<AccessTokenClaims> = {}): AccessTokenClaims =>
  ({ iss: 'https://as.example', sub: 'usr_1', aud: 'https://rs.example/mcp', exp: 2_000, iat: 1_000, jti, client_id: 'app_1', ...extra }) as AccessTokenClaims;

test('an entry lives until its event’s exp, then is forgotten at the next sweep', () => {
  let nowMs = 1_000_000;
  const state = new RevocationState({ clock: () => nowMs });
  state.apply({ jti: ['j1'], gid: ['g1'], cutoff: [{ party: 'client', id: 'agt_1', iat_before: 1_000 }], exp: 1_100 });
  assert.equal(state.size, 3);
  assert.equal(state.isRevoked(claims('j1')), true);
  assert.equal(state.isRevoked(claims('other', { gid: 'g1' })), true);
  assert.equal(state.isRevoked(claims('other', { iat: 999, act: { sub: 'agt_1' } })), true);
  nowMs = 1_101_000;
  // An event already over is not kept at all; an over-the-bound apply sweeps the expired ones.
  state.apply({ jti: ['late'], exp: 1_050 });
  assert.equal(state.size, 3, 'nothing added, nothing swept yet');
  for (let i = 0; i < 256; i++) state.apply({ jti: [`k${i}`], exp: 5_000 });
  assert.equal(state.isRevoked(claims('j1')), false, 'expired entries are swept');
  assert.equal(state.isRevoked(claims('other', { iat: 999, act: { sub: 'agt_1' } })), false);
  assert.equal(state.size, 256);
  assert.equal(state.dropped, 0);
});

test('past maxEntries the oldest entries go first, and the count of those dropped says the bound is too small', () => {
  const state = new RevocationState({ maxEntries: 3, clock: () => 0 });
  state.apply({ jti: ['a', 'b'], exp: 10 });
  state.apply({ jti: ['c'], exp: 10 });
  state.apply({ jti: ['a'], exp: 10 }); // seen again: now the newest
  state.apply({ jti: ['d'], exp: 10 });
  assert.equal(state.size, 3);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((jti) => state.isRevoked(claims(jti))), [true, false, true, true]);
  assert.equal(state.dropped, 1);
  // Cutoffs count too, and go after the ids.
  state.apply({ cutoff: [{ party: 'user', id: 'usr_1', iat_before: 1_001 }], exp: 10 });
  assert.equal(state.size, 3);
  assert.equal(state.isRevoked(claims('zzz')), true, 'the cutoff is kept');
  assert.equal(state.dropped, 2);
});

test('an event without exp (an older server) is kept for defaultRetentionSeconds; options are checked', () => {
  let nowMs = 0;
  const state = new RevocationState({ defaultRetentionSeconds: 60, maxEntries: 1, clock: () => nowMs });
  state.apply({ jti: ['a'] });
  nowMs = 61_000;
  state.apply({ jti: ['b'] }); // over the bound: the sweep removes the expired one, nothing is dropped
  assert.equal(state.isRevoked(claims('a')), false);
  assert.equal(state.isRevoked(claims('b')), true);
  assert.equal(state.dropped, 0);
  assert.throws(() => new RevocationState({ maxEntries: 0 }), TypeError);
  assert.throws(() => new RevocationState({ defaultRetentionSeconds: -1 }), TypeError);
});

test('a flood of 1,000 revocations past maxEntries never fails open: forgotten ones make older tokens uncertain, refused without introspection', async () => {
  let nowMs = 1_000_000;
  const state = new RevocationState({ maxEntries: 100, clock: () => nowMs });
  for (let i = 0; i < 1_000; i++) state.apply({ jti: [`flood${i}`], exp: 4_600 });
  assert.equal(state.size, 100);
  assert.equal(state.dropped, 900);
  // The newest forgotten event was received at 1 000 s: tokens issued up to then (+ 60 s of clock skew) are uncertain
  // until the latest exp of what was forgotten.
  assert.deepEqual(state.horizon, { issuedBefore: 1_060, until: 4_600 });
  const forgotten = claims('flood0', { iat: 990, exp: 4_000 });
  assert.equal(state.isRevoked(forgotten), false, 'its entry is gone');
  assert.equal(state.isUncertain(forgotten), true);
  await assert.rejects(state.assertNotRevoked('t', forgotten), { code: 'ERR_TOKEN_INACTIVE', message: /forgotten/ });
  await assert.rejects(state.assertNotRevoked('t', claims('flood999', { iat: 1_500 })), { code: 'ERR_TOKEN_INACTIVE', message: 'the token is not active' }, 'a kept entry');
  // A token issued after the horizon owes nothing to what was forgotten.
  assert.deepEqual(await state.assertNotRevoked('t', claims('fresh', { iat: 1_061 })), {});
  // Once everything forgotten has expired, nothing is uncertain any more.
  nowMs = 4_600_000;
  assert.equal(state.horizon, undefined);
  assert.equal(state.isUncertain(forgotten), false);
});

test('a forgotten cutoff makes uncertain exactly the tokens issued before its iat_before', () => {
  const state = new RevocationState({ maxEntries: 1, clock: () => 0 });
  state.apply({ cutoff: [{ party: 'user', id: 'usr_1', iat_before: 500 }], exp: 100 });
  state.apply({ cutoff: [{ party: 'user', id: 'usr_2', iat_before: 700 }], exp: 200 });
  assert.equal(state.dropped, 1);
  assert.deepEqual(state.horizon, { issuedBefore: 500, until: 100 });
  assert.equal(state.isUncertain({ iat: 499 }), true);
  assert.equal(state.isUncertain({ iat: 501 }), false);
  assert.throws(() => new RevocationState({ clockSkewSeconds: -1 }), TypeError);
});

test('issue 11: with audience, events whose aud names other resources only are ignored (and take no room); events without aud still apply', () => {
  const state = new RevocationState({ audience: ['https://rs.example/mcp', 'https://rs.example/api'], maxEntries: 2, clock: () => 0 });
  assert.equal(state.concerns({ jti: ['x'], aud: ['https://other.example/mcp'] }), false);
  for (let i = 0; i < 10; i++) state.apply({ jti: [`other${i}`], aud: ['https://other.example/mcp'], exp: 10 });
  assert.equal(state.size, 0, 'another resource’s flood takes no room');
  assert.equal(state.dropped, 0);
  state.apply({ jti: ['mine'], aud: ['https://other.example/mcp', 'https://rs.example/api'], exp: 10 });
  state.apply({ cutoff: [{ party: 'user', id: 'usr_9', iat_before: 500 }], exp: 10 });
  assert.equal(state.isRevoked(claims('mine')), true, 'an event naming one of its audiences applies');
  assert.equal(state.isRevoked(claims('any', { sub: 'usr_9', iat: 400 })), true, 'an event without aud (a cutoff) applies');
  assert.equal(state.isRevoked(claims('other3')), false);
  // Without audience (backward compatible), every event applies.
  const all = new RevocationState({ clock: () => 0 });
  all.apply({ jti: ['other'], aud: ['https://other.example/mcp'], exp: 10 });
  assert.equal(all.isRevoked(claims('other')), true);
  assert.throws(() => new RevocationState({ audience: [] }), TypeError);
});
