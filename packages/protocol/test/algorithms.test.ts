import assert from 'node:assert/strict';
import { createHmac, createSecretKey, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  isJwsAlgorithm,
  JWS_ALGORITHMS,
  keyTypeFor,
  SIGNING_ALGORITHMS,
  signatureCheckFor,
  signatureMakerFor,
} from '../src/algorithms.ts';
import type { JwsAlgorithm } from '../src/algorithms.ts';

const keys = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  ed25519: generateKeyPairSync('ed25519'),
  ed448: generateKeyPairSync('ed448'),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }),
};
const input = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0');

/** The one key each algorithm fits. */
const fitting: Record<JwsAlgorithm, { publicKey: KeyObject; privateKey: KeyObject }> = {
  ES256: keys.p256, ES384: keys.p384, ES512: keys.p521, EdDSA: keys.ed25519,
  RS256: keys.rsa, RS384: keys.rsa, RS512: keys.rsa, PS256: keys.rsa, PS384: keys.rsa, PS512: keys.rsa,
};

describe('the algorithm table', () => {
  test('none and the HMAC algorithms are not algorithms here at all', () => {
    for (const alg of ['none', 'None', 'HS256', 'HS384', 'HS512', 'es256', 'Ed25519', '', undefined, null, 42, {}]) {
      assert.equal(isJwsAlgorithm(alg), false, String(alg));
    }
    assert.ok(JWS_ALGORITHMS.every(isJwsAlgorithm));
    assert.deepEqual([...SIGNING_ALGORITHMS], ['ES256', 'EdDSA', 'RS256']);
  });

  test('keyTypeFor names the JWK kty of each algorithm', () => {
    assert.deepEqual(JWS_ALGORITHMS.map(keyTypeFor), ['EC', 'EC', 'EC', 'OKP', 'RSA', 'RSA', 'RSA', 'RSA', 'RSA', 'RSA']);
  });

  test('an algorithm name that is not in the table (cast past the type) gets no check', () => {
    assert.equal(signatureCheckFor('HS256' as JwsAlgorithm, keys.rsa.publicKey), undefined);
    assert.equal(signatureCheckFor('none' as JwsAlgorithm, keys.p256.publicKey), undefined);
    assert.throws(() => signatureMakerFor('HS256' as 'ES256', keys.p256.privateKey), TypeError);
  });
});

describe('algorithm confusion: a check exists only for a key of the algorithm’s own type', () => {
  for (const alg of JWS_ALGORITHMS) {
    test(`${alg}: only its own key type, curve and size get a check`, () => {
      for (const [name, pair] of Object.entries(keys)) {
        const check = signatureCheckFor(alg, pair.publicKey);
        const fits = pair === fitting[alg];
        assert.equal(check !== undefined, fits, `${alg} with ${name}`);
      }
    });
  }

  test('an RSA public key used as an HMAC secret (the classic HS256 forgery) verifies nothing', () => {
    const pem = keys.rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const forged = createHmac('sha256', pem).update(input).digest();
    for (const alg of JWS_ALGORITHMS) assert.notEqual(signatureCheckFor(alg, keys.rsa.publicKey)?.(input, forged), true, alg);
  });

  test('a private or secret key is never a verification key', () => {
    assert.equal(signatureCheckFor('ES256', keys.p256.privateKey), undefined);
    assert.equal(signatureCheckFor('RS256', keys.rsa.privateKey), undefined);
    assert.equal(signatureCheckFor('ES256', createSecretKey(Buffer.alloc(32, 1))), undefined);
  });

  test('RSA under 2048 bits is refused (RFC 7518 §3.3) for verifying and for signing', () => {
    assert.equal(signatureCheckFor('RS256', keys.rsa1024.publicKey), undefined);
    assert.throws(() => signatureMakerFor('RS256', keys.rsa1024.privateKey), TypeError);
  });

  test('PKCS#1 v1.5 and PSS are not interchangeable on the same RSA key', () => {
    const pkcs1 = sign('sha256', input, keys.rsa.privateKey);
    assert.equal(signatureCheckFor('RS256', keys.rsa.publicKey)!(input, pkcs1), true);
    assert.equal(signatureCheckFor('PS256', keys.rsa.publicKey)!(input, pkcs1), false);
  });

  test('an ES256 signature is refused by the ES384 check of a P-384 key and by EdDSA', () => {
    const signature = signatureMakerFor('ES256', keys.p256.privateKey)(input);
    assert.equal(signatureCheckFor('ES256', keys.p256.publicKey)!(input, signature), true);
    assert.equal(signatureCheckFor('ES384', keys.p384.publicKey)!(input, signature), false);
    assert.equal(signatureCheckFor('EdDSA', keys.ed25519.publicKey)!(input, signature), false);
  });
});

describe('signing with the algorithms Mandate issues', () => {
  for (const alg of SIGNING_ALGORITHMS) {
    test(`${alg}: what the signer makes, the check of the same key accepts; a changed byte fails`, () => {
      const signature = signatureMakerFor(alg, fitting[alg].privateKey)(input);
      const check = signatureCheckFor(alg, fitting[alg].publicKey)!;
      assert.equal(check(input, signature), true);
      const altered = Buffer.from(signature);
      altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 1;
      assert.equal(check(input, altered), false);
      assert.equal(check(Buffer.concat([input, Buffer.from('x')]), signature), false);
    });
  }

  test('ES256 signatures are 64 bytes of R ‖ S, as RFC 7518 §3.4 requires', () => {
    for (let i = 0; i < 50; i++) assert.equal(signatureMakerFor('ES256', keys.p256.privateKey)(input).length, 64);
  });

  test('a key of another type than the algorithm cannot make a signer', () => {
    assert.throws(() => signatureMakerFor('ES256', keys.p384.privateKey), TypeError);
    assert.throws(() => signatureMakerFor('ES256', keys.rsa.privateKey), TypeError);
    assert.throws(() => signatureMakerFor('EdDSA', keys.ed448.privateKey), TypeError);
    assert.throws(() => signatureMakerFor('RS256', keys.p256.privateKey), TypeError);
    assert.throws(() => signatureMakerFor('ES256', keys.p256.publicKey), TypeError);
  });

  test('a wrong-length signature fails the check instead of throwing', () => {
    assert.equal(signatureCheckFor('ES256', keys.p256.publicKey)!(input, Buffer.alloc(63)), false);
    assert.equal(signatureCheckFor('EdDSA', keys.ed25519.publicKey)!(input, Buffer.alloc(65)), false);
    assert.equal(signatureCheckFor('ES512', keys.p521.publicKey)!(input, Buffer.alloc(0)), false);
    assert.equal(signatureCheckFor('RS256', keys.rsa.publicKey)!(input, Buffer.alloc(0)), false);
    assert.equal(signatureCheckFor('PS256', keys.rsa.publicKey)!(input, Buffer.alloc(1000, 1)), false);
  });
});
