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

test('a resource cutoff revokes the tokens whose chain passed through that resource server, issued before it', () => {
  const downstream = { jti: 'j2', sub: 'usr_1', client_id: 'app_1', iat: 100, act: { sub: 'https://gw.example.com/mcp', client_id: 'https://gw.example.com/mcp', sub_profile: 'resource_server', act: { sub: 'agt_1' } } };
  const cut = (iat_before: number, id = 'https://gw.example.com/mcp') => ({ cutoff: [{ party: 'resource' as const, id, iat_before }] });
  assert.equal(isRevokedBy(downstream, cut(101)), true);
  assert.equal(isRevokedBy(downstream, cut(100)), false, 'issued at the cutoff: alive');
  assert.equal(isRevokedBy(downstream, cut(101, 'https://other.example.com/mcp')), false);
  assert.equal(isRevokedBy(claims, cut(101, 'agt_1')), false, 'an agent in act is no resource server');
  assert.deepEqual(parseRevocationEvent('{"cutoff":[{"party":"resource","id":"https://gw.example.com/mcp","iat_before":5}]}'), cut(5));
});

test('parseRevocationEvent reads only well-formed events', () => {
  assert.deepEqual(parseRevocationEvent('{"jti":["a"],"cutoff":[{"party":"user","id":"u","iat_before":5,"x":1}],"extra":true}'), { jti: ['a'], cutoff: [{ party: 'user', id: 'u', iat_before: 5 }] });
  for (const bad of ['nope', '[]', '{"jti":"a"}', '{"gid":[1]}', '{"cutoff":[{"party":"group","id":"u","iat_before":5}]}', '{"cutoff":[{"party":"user","id":"u"}]}']) {
    assert.equal(parseRevocationEvent(bad), null, bad);
  }
});
