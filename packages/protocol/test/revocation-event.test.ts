import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRevokedBy, parseRevocationEvent } from '../src/index.ts';

const claims = { jti: 'j1', sub: 'usr_1', client_id: 'app_1', iat: 100, gid: 'g1', act: { sub: 'agt_1', act: { sub: 'agt_2', client_id: 'agt_2' } } };

test('a revocation event revokes by jti, by gid, and by a party cut after the token’s iat', () => {
  assert.equal(isRevokedBy(claims, { jti: ['j0', 'j1'] }), true);
  assert.equal(isRevokedBy(claims, { gid: ['g1'] }), true);
  assert.equal(isRevokedBy(claims, { jti: ['j0'], gid: ['g0'] }), false);
  assert.equal(isRevokedBy(claims, { cutoff: [{ party: 'user', id: 'usr_1', iat_before: 101 }] }), true);
  assert.equal(isRevokedBy(claims, { cutoff: [{ party: 'user', id: 'usr_1', iat_before: 100 }] }), false, 'issued at the cutoff: alive');
  assert.equal(isRevokedBy(claims, { cutoff: [{ party: 'client', id: 'agt_2', iat_before: 101 }] }), true, 'an actor deep in act');
  assert.equal(isRevokedBy(claims, { cutoff: [{ party: 'client', id: 'app_1', iat_before: 101 }] }), true);
  assert.equal(isRevokedBy(claims, { cutoff: [{ party: 'client', id: 'usr_1', iat_before: 101 }] }), false, 'a user id is no client');
});

test('parseRevocationEvent reads only well-formed events', () => {
  assert.deepEqual(parseRevocationEvent('{"jti":["a"],"cutoff":[{"party":"user","id":"u","iat_before":5,"x":1}],"extra":true}'), { jti: ['a'], cutoff: [{ party: 'user', id: 'u', iat_before: 5 }] });
  for (const bad of ['nope', '[]', '{"jti":"a"}', '{"gid":[1]}', '{"cutoff":[{"party":"group","id":"u","iat_before":5}]}', '{"cutoff":[{"party":"user","id":"u"}]}']) {
    assert.equal(parseRevocationEvent(bad), null, bad);
  }
});
