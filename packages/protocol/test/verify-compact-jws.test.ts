import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { signatureCheckFor, signatureMakerFor, SIGNING_ALGORITHMS } from '../src/algorithms.ts';
import type { JwsAlgorithm, SignatureCheck, SigningAlgorithm } from '../src/algorithms.ts';
import { encodeCompactJws } from '../src/encode-compact-jws.ts';
import { normalizeTyp, verifyCompactJws } from '../src/verify-compact-jws.ts';
import type { JwsVerifyOptions } from '../src/verify-compact-jws.ts';

const pairs = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: generateKeyPairSync('ed25519'),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
const signer = (alg: SigningAlgorithm, kid = `${alg}-key`) => ({ alg, kid, sign: signatureMakerFor(alg, pairs[alg].privateKey) });

/** A key set of one key per algorithm, each `kid` bound to its algorithm, as the server's key ring and the SDK's JWKS do. */
function options(overrides: Partial<JwsVerifyOptions> = {}): JwsVerifyOptions {
  const checks = new Map<string, { alg: JwsAlgorithm; check: SignatureCheck }>(
    SIGNING_ALGORITHMS.map((alg) => [`${alg}-key`, { alg, check: signatureCheckFor(alg, pairs[alg].publicKey)! }]),
  );
  return {
    algorithms: new Set(SIGNING_ALGORITHMS),
    typ: 'at+jwt',
    keyFor: (kid, alg) => {
      const key = checks.get(kid);
      return key?.alg === alg ? key.check : undefined;
    },
    ...overrides,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = { iss: 'https://as.example', sub: 'agt_1' };

/** A token with a hand-made header, signed (or not) with raw bytes: what an attacker sends. */
function forge(header: Record<string, unknown>, signature: (input: Buffer) => Buffer): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${signature(Buffer.from(input)).toString('base64url')}`;
}

describe('encodeCompactJws ↔ verifyCompactJws', () => {
  for (const alg of SIGNING_ALGORITHMS) {
    test(`${alg}: a token signed with the key verifies, with its header and claims`, async () => {
      const token = encodeCompactJws(signer(alg), 'at+jwt', claims);
      const result = await verifyCompactJws(token, options());
      assert.ok(result.ok);
      assert.deepEqual(result.header, { alg, typ: 'at+jwt', kid: `${alg}-key` });
      assert.deepEqual(result.payload, claims);
      assert.equal(result.kid, `${alg}-key`);
      assert.equal(result.alg, alg);
    });
  }

  test('the header is { alg, typ, kid } and the same key and typ always encode it the same', () => {
    const [first] = encodeCompactJws(signer('ES256'), 'at+jwt', claims).split('.');
    const [second] = encodeCompactJws(signer('ES256'), 'at+jwt', { other: true }).split('.');
    assert.equal(first, second);
    assert.deepEqual(JSON.parse(Buffer.from(first!, 'base64url').toString()), { alg: 'ES256', typ: 'at+jwt', kid: 'ES256-key' });
    const [idHeader] = encodeCompactJws(signer('ES256'), 'JWT', claims).split('.');
    assert.notEqual(idHeader, first);
  });

  test('an altered payload or signature fails the signature check', async () => {
    const [header, payload, signature] = encodeCompactJws(signer('ES256'), 'at+jwt', claims).split('.') as [string, string, string];
    const otherPayload = b64({ ...claims, sub: 'usr_admin' });
    assert.deepEqual(await verifyCompactJws(`${header}.${otherPayload}.${signature}`, options()), { ok: false, failure: 'bad_signature' });
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10] = (flipped[10] as number) ^ 0xff;
    assert.deepEqual(await verifyCompactJws(`${header}.${payload}.${flipped.toString('base64url')}`, options()), { ok: false, failure: 'bad_signature' });
  });
});

describe('algorithm confusion and header tricks are refused', () => {
  test('alg none, with or without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ alg, typ: 'at+jwt', kid: 'ES256-key' })}.${b64(claims)}.`;
      assert.equal((await verifyCompactJws(unsigned, options())).ok, false);
      const result = await verifyCompactJws(forge({ alg, typ: 'at+jwt', kid: 'ES256-key' }, () => Buffer.from('x')), options());
      assert.deepEqual(result, { ok: false, failure: 'alg_not_allowed', alg });
    }
  });

  test('HS256 with the public key as the HMAC secret', async () => {
    const pem = pairs.RS256.publicKey.export({ type: 'spki', format: 'pem' });
    const jwk = JSON.stringify(pairs.RS256.publicKey.export({ format: 'jwk' }));
    for (const secret of [pem, jwk]) {
      const token = forge({ alg: 'HS256', typ: 'at+jwt', kid: 'RS256-key' }, (input) => createHmac('sha256', secret).update(input).digest());
      assert.deepEqual(await verifyCompactJws(token, options()), { ok: false, failure: 'alg_not_allowed', alg: 'HS256' });
    }
  });

  test('an algorithm the caller did not allow, though the library knows it', async () => {
    const token = encodeCompactJws(signer('RS256'), 'at+jwt', claims);
    const result = await verifyCompactJws(token, options({ algorithms: new Set(['ES256']) }));
    assert.deepEqual(result, { ok: false, failure: 'alg_not_allowed', alg: 'RS256' });
  });

  test("a header alg that is not the key's own: the key's RS256 check is never used for PS256 or ES256", async () => {
    const rsaSigned = forge({ alg: 'PS256', typ: 'at+jwt', kid: 'RS256-key' }, (input) => sign('sha256', input, pairs.RS256.privateKey));
    const opts = options({ algorithms: new Set<JwsAlgorithm>(['PS256', ...SIGNING_ALGORITHMS]) });
    assert.deepEqual(await verifyCompactJws(rsaSigned, opts), { ok: false, failure: 'unknown_key', kid: 'RS256-key' });
    const relabelled = forge({ alg: 'ES256', typ: 'at+jwt', kid: 'RS256-key' }, (input) => sign('sha256', input, pairs.RS256.privateKey));
    assert.deepEqual(await verifyCompactJws(relabelled, options()), { ok: false, failure: 'unknown_key', kid: 'RS256-key' });
  });

  test('an EdDSA signature presented as ES256 under the EC key fails', async () => {
    const token = forge({ alg: 'ES256', typ: 'at+jwt', kid: 'ES256-key' }, (input) => sign(null, input, pairs.EdDSA.privateKey));
    assert.deepEqual(await verifyCompactJws(token, options()), { ok: false, failure: 'bad_signature' });
  });

  test('an embedded jwk, jku or x5u header is never used: the key comes from keyFor alone', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const embedded = attacker.publicKey.export({ format: 'jwk' });
    const signWithAttacker = (input: Buffer) => signatureMakerFor('ES256', attacker.privateKey)(input);
    for (const extra of [{ jwk: embedded }, { jku: 'https://evil.example/jwks' }, { x5u: 'https://evil.example/cert' }]) {
      const token = forge({ alg: 'ES256', typ: 'at+jwt', kid: 'ES256-key', ...extra }, signWithAttacker);
      assert.deepEqual(await verifyCompactJws(token, options()), { ok: false, failure: 'bad_signature' });
    }
    const noKid = forge({ alg: 'ES256', typ: 'at+jwt', jwk: embedded }, signWithAttacker);
    assert.deepEqual(await verifyCompactJws(noKid, options()), { ok: false, failure: 'no_kid', kid: undefined });
  });

  test('a crit header is refused: no extension is understood (RFC 7515 §4.1.11)', async () => {
    const token = forge({ alg: 'ES256', typ: 'at+jwt', kid: 'ES256-key', crit: ['exp'] }, signer('ES256').sign);
    const result = await verifyCompactJws(token, options());
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.failure, 'malformed');
  });

  test('typ: another type (an ID token as an access token, and back) is refused; case and application/ do not matter', async () => {
    const idToken = encodeCompactJws(signer('ES256'), 'JWT', claims);
    assert.deepEqual(await verifyCompactJws(idToken, options()), { ok: false, failure: 'typ_mismatch', typ: 'JWT' });
    const missing = forge({ alg: 'ES256', kid: 'ES256-key' }, signer('ES256').sign);
    assert.deepEqual(await verifyCompactJws(missing, options()), { ok: false, failure: 'typ_mismatch', typ: undefined });
    for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
      assert.ok((await verifyCompactJws(forge({ alg: 'ES256', typ, kid: 'ES256-key' }, signer('ES256').sign), options())).ok, typ);
    }
    assert.equal(normalizeTyp('application/JWT'), 'jwt');
    const idOptions = options({ typ: 'JWT', typOptional: true });
    assert.ok((await verifyCompactJws(missing, idOptions)).ok, 'typ may be absent where the caller allows it');
    assert.ok((await verifyCompactJws(idToken, idOptions)).ok);
    const accessToken = encodeCompactJws(signer('ES256'), 'at+jwt', claims);
    assert.deepEqual(await verifyCompactJws(accessToken, idOptions), { ok: false, failure: 'typ_mismatch', typ: 'at+jwt' });
  });

  test('unknown kid, empty kid, non-string kid', async () => {
    const sign256 = signer('ES256').sign;
    assert.deepEqual(await verifyCompactJws(forge({ alg: 'ES256', typ: 'at+jwt', kid: 'nope' }, sign256), options()), { ok: false, failure: 'unknown_key', kid: 'nope' });
    assert.deepEqual(await verifyCompactJws(forge({ alg: 'ES256', typ: 'at+jwt', kid: '' }, sign256), options()), { ok: false, failure: 'no_kid', kid: '' });
    assert.deepEqual(await verifyCompactJws(forge({ alg: 'ES256', typ: 'at+jwt', kid: 7 }, sign256), options()), { ok: false, failure: 'no_kid', kid: 7 });
  });

  test('checks run in order and stop at the first failure: no key is looked up for a refused alg or typ', async () => {
    let lookups = 0;
    const counting = options();
    const opts = options({ keyFor: (kid, alg) => (lookups++, counting.keyFor(kid, alg)) });
    await verifyCompactJws(forge({ alg: 'HS256', typ: 'at+jwt', kid: 'ES256-key' }, () => Buffer.from('x')), opts);
    await verifyCompactJws(forge({ alg: 'ES256', typ: 'JWT', kid: 'ES256-key' }, () => Buffer.from('x')), opts);
    assert.equal(lookups, 0);
    await verifyCompactJws(encodeCompactJws(signer('ES256'), 'at+jwt', claims), opts);
    assert.equal(lookups, 1);
  });

  test('an async key lookup is awaited, and its failure propagates', async () => {
    const sync = options();
    const token = encodeCompactJws(signer('EdDSA'), 'at+jwt', claims);
    assert.ok((await verifyCompactJws(token, options({ keyFor: async (kid, alg) => sync.keyFor(kid, alg) }))).ok);
    await assert.rejects(verifyCompactJws(token, options({ keyFor: async () => Promise.reject(new Error('JWKS down')) })), /JWKS down/);
  });
});
