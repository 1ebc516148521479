import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_COMPACT_JWS_LENGTH, parseCompactJws } from '../src/parse-compact-jws.ts';

const part = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const header = part({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
const payload = part({ sub: 'agt_1', scope: 'a b' });
const signature = Buffer.from('signature bytes').toString('base64url');

test('a compact JWS splits into its decoded header and payload, the signing input and the signature', () => {
  const parsed = parseCompactJws(`${header}.${payload}.${signature}`);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.header, { alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
  assert.deepEqual(parsed.payload, { sub: 'agt_1', scope: 'a b' });
  assert.equal(parsed.signingInput.toString('latin1'), `${header}.${payload}`);
  assert.equal(parsed.signature.toString(), 'signature bytes');
});

test('headers are shared between tokens and frozen, so one caller cannot change what another sees', () => {
  const first = parseCompactJws(`${header}.${payload}.${signature}`);
  const second = parseCompactJws(`${header}.${part({ sub: 'other' })}.${signature}`);
  assert.ok(first.ok && second.ok);
  assert.equal(first.header, second.header);
  assert.ok(Object.isFrozen(first.header));
  assert.notEqual(first.payload, second.payload);
});

test('anything but three non-empty base64url parts is malformed, with the reason', () => {
  const cases = [
    '',
    'abc',
    `${header}.${payload}`,
    `${header}.${payload}.`,
    `${header}..${signature}`,
    `.${payload}.${signature}`,
    `${header}.${payload}.${signature}.x.y`, // JWE has five parts
    `${header}.${payload}.${signature}=`, // padding is not base64url
    `${header}.${payload}.ab+c/`, // base64, not base64url: Buffer would decode it silently
    ` ${header}.${payload}.${signature}`,
  ];
  for (const token of cases) {
    const parsed = parseCompactJws(token);
    assert.equal(parsed.ok, false, token);
    assert.ok(!parsed.ok && parsed.failure === 'malformed' && parsed.reason.length > 0);
  }
});

test('header and payload must each be a JSON object', () => {
  for (const [token, reason] of [
    [`${part('not json')}.${payload}.${signature}`, 'the JWS header is not JSON'],
    [`${part([1, 2])}.${payload}.${signature}`, 'the JWS header is not a JSON object'],
    [`${header}.${part('null')}.${signature}`, 'the JWS payload is not a JSON object'],
    [`${header}.${part('"a string"')}.${signature}`, 'the JWS payload is not a JSON object'],
    [`${header}.${part('{"a":')}.${signature}`, 'the JWS payload is not JSON'],
  ] as const) {
    assert.deepEqual(parseCompactJws(token), { ok: false, failure: 'malformed', reason });
  }
});

test(`a token over ${MAX_COMPACT_JWS_LENGTH} characters is refused before it is decoded`, () => {
  const big = part({ sub: 'x'.repeat(MAX_COMPACT_JWS_LENGTH) });
  const parsed = parseCompactJws(`${header}.${big}.${signature}`);
  assert.equal(parsed.ok, false);
  assert.match(!parsed.ok ? parsed.reason : '', /longer than/);
});
