import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { argumentsSha256, canonicalJson } from '../src/index.ts';

test('RFC 8785 members sorted by UTF-16 code units at every depth, no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}');
  // Code units, not code points: U+1F600 (a surrogate pair, 0xD83D…) sorts after U+20AC.
  assert.equal(canonicalJson({ '\u20ac': 1, '\r': 2, '1': 3, '\ud83d\ude00': 4, '\u0080': 5, '\u00f6': 6 }), '{"\\r":2,"1":3,"\u0080":5,"\u00f6":6,"\u20ac":1,"\ud83d\ude00":4}');
});

test('RFC 8785 §3.2.2.3 numbers as ECMAScript writes them; non-JSON values are refused', () => {
  assert.equal(canonicalJson([1e21, 1e-7, 0.1, -0, 100, 4.5]), '[1e+21,1e-7,0.1,0,100,4.5]');
  assert.throws(() => canonicalJson(Number.NaN), TypeError);
  assert.throws(() => canonicalJson(1n), TypeError);
  assert.throws(() => canonicalJson([undefined]), TypeError);
  assert.equal(canonicalJson({ skipped: undefined, kept: 1 }), '{"kept":1}');
});

test('argumentsSha256: the base64url SHA-256 of the canonical JSON; member order does not matter; absent is {}', () => {
  const expected = createHash('sha256').update('{"command":"ls","cwd":"/tmp"}').digest('base64url');
  assert.equal(argumentsSha256({ cwd: '/tmp', command: 'ls' }), expected);
  assert.equal(argumentsSha256({ command: 'ls', cwd: '/tmp' }), expected);
  assert.notEqual(argumentsSha256({ command: 'ls', cwd: '/' }), expected);
  assert.equal(argumentsSha256(undefined), argumentsSha256({}));
});
