import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  accessTokenHash,
  createDpopNonces,
  createDpopProof,
  dpopKeyFrom,
  type DpopProofExpectations,
  JWS_ALGORITHMS,
  jwkThumbprint,
  normalizeHtu,
  verifyDpopProof,
} from '../src/index.ts';

// RFC 9449 §4.1, §5 and §7.1 example proofs (danielfett/draft-dpop main.md), all under one ES256 key.
const rfcHeader =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19';
const tokenProof = `${rfcHeader}.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg`;
const refreshProof = `${rfcHeader}.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjY1Mjk2fQ.pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5QsGSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA`;
const resourceProof = `${rfcHeader}.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA`;
const RFC_JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
const RFC_AT = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';

const algorithms = new Set(JWS_ALGORITHMS);
const window = { algorithms, maxAgeSeconds: 300, clockSkewSeconds: 60 };

test('DP-21 the three RFC 9449 example proofs verify under the example key (injected 2019 clock)', () => {
  const token = verifyDpopProof(tokenProof, { ...window, method: 'POST', url: 'https://server.example.com/token', nowSeconds: 1562262616 });
  assert.deepEqual(token.ok && { jkt: token.jkt, jti: token.jti }, { jkt: RFC_JKT, jti: '-BwC3ESc6acc2lTc' });
  const refresh = verifyDpopProof(refreshProof, { ...window, method: 'POST', url: 'https://server.example.com/token', nowSeconds: 1562265296 });
  // The refresh proof repeats the token proof's jti: only a replay cache tells them apart.
  assert.equal(refresh.ok && refresh.jti, '-BwC3ESc6acc2lTc');
  const resource = verifyDpopProof(resourceProof, {
    ...window,
    method: 'GET',
    url: 'https://resource.example.org/protectedresource',
    nowSeconds: 1562262618,
    accessToken: RFC_AT,
    jkt: RFC_JKT,
  });
  assert.equal(resource.ok, true);
  assert.equal(accessTokenHash(RFC_AT), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
});

test('DP-22 RFC 7638 §3.1 RSA thumbprint; kid, alg and use do not change it', () => {
  const n =
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
  assert.equal(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB' }), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  assert.equal(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB', kid: '2011-04-29', alg: 'RS256', use: 'sig' }), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  assert.equal(jwkThumbprint({ kty: 'oct', k: 'abc' }), undefined);
});

// Proofs of our own, each broken in one way, under a fresh key and the real shape of a token request.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = dpopKeyFrom(privateKey, 'ES256');
const now = 1_800_000_000;
const url = 'https://as.example.com/token';
const expect: DpopProofExpectations = { ...window, method: 'POST', url, nowSeconds: now };

/** A proof signed by `key` with `header` and `payload` members replaced (undefined deletes one). */
function forged(headerPatch: Record<string, unknown>, payloadPatch: Record<string, unknown>, signer = key): string {
  const header = Object.fromEntries(Object.entries({ typ: 'dpop+jwt', alg: 'ES256', jwk: signer.publicJwk, ...headerPatch }).filter(([, v]) => v !== undefined));
  const payload = Object.fromEntries(Object.entries({ jti: 'j-1', htm: 'POST', htu: url, iat: now, ...payloadPatch }).filter(([, v]) => v !== undefined));
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${signer.sign(Buffer.from(input)).toString('base64url')}`;
}

const failure = (proof: string, extra: Partial<DpopProofExpectations> = {}) => {
  const result = verifyDpopProof(proof, { ...expect, ...extra });
  return result.ok ? 'ok' : result.failure;
};

test('DP-01 two DPoP headers (joined by a comma) are refused', () => {
  const proof = createDpopProof(key, { method: 'POST', url }, now);
  assert.equal(failure(`${proof}, ${proof}`), 'multiple_proofs');
});

test('DP-02 a value that is not a JWT is refused', () => {
  assert.equal(failure('not-a-jwt'), 'malformed');
  assert.equal(failure('a.b'), 'malformed');
});

test('DP-03 a proof without jti, htm, htu or iat is refused', () => {
  for (const claim of ['jti', 'htm', 'htu', 'iat']) assert.equal(failure(forged({}, { [claim]: undefined })), 'missing_claim', claim);
});

test('DP-04 typ other than dpop+jwt is refused', () => {
  assert.equal(failure(forged({ typ: 'jwt' }, {})), 'typ');
  assert.equal(failure(forged({ typ: undefined }, {})), 'typ');
  assert.equal(failure(forged({ typ: 'application/dpop+jwt' }, {})), 'ok');
});

test('DP-05 alg none, HS256 or one not allowed is refused', () => {
  assert.equal(failure(forged({ alg: 'none' }, {})), 'alg');
  assert.equal(failure(forged({ alg: 'HS256' }, {})), 'alg');
  assert.equal(failure(forged({}, {}), { algorithms: new Set(['EdDSA'] as const) }), 'alg');
});

test('DP-06 a bad signature is refused', () => {
  const proof = createDpopProof(key, { method: 'POST', url }, now);
  const other = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
  assert.equal(failure(`${proof.slice(0, proof.lastIndexOf('.'))}.${createDpopProof(other, { method: 'POST', url }, now).split('.')[2]}`), 'signature');
});

test('DP-07 a jwk containing private key material (d) is refused', () => {
  const privateJwk = privateKey.export({ format: 'jwk' });
  assert.equal(failure(forged({ jwk: privateJwk }, {})), 'private_key');
  assert.equal(failure(forged({ jwk: { kty: 'oct', k: 'c2VjcmV0' } }, {})), 'private_key');
  assert.equal(failure(forged({ jwk: undefined }, {})), 'jwk');
});

test('DP-08 htm of another method is refused', () => {
  assert.equal(failure(forged({}, { htm: 'GET' })), 'htm');
});

test('DP-09 htu of another URL is refused; query, fragment, case and default port are not a difference', () => {
  assert.equal(failure(forged({}, { htu: 'https://as.example.com/other' })), 'htu');
  assert.equal(failure(forged({}, { htu: 'https://evil.example.com/token' })), 'htu');
  assert.equal(failure(forged({}, { htu: 'HTTPS://AS.example.com:443/token?x=1#f' })), 'ok');
  assert.equal(failure(forged({}, {}), { url: 'https://as.example.com/token?a=b' }), 'ok');
  assert.equal(normalizeHtu('https://as.example.com/a/../token'), 'https://as.example.com/token');
});

test('DP-10 a missing or stale nonce is refused as use_nonce once the server requires one', () => {
  const nonces = createDpopNonces(Buffer.alloc(32, 7), 300);
  const acceptsNonce = (nonce: unknown) => nonces.accepts(nonce, now);
  assert.equal(failure(forged({}, {}), { acceptsNonce }), 'use_nonce');
  assert.equal(failure(forged({}, { nonce: nonces.current(now - 600) }), { acceptsNonce }), 'use_nonce');
  assert.equal(failure(forged({}, { nonce: nonces.current(now - 300) }), { acceptsNonce }), 'ok');
  assert.equal(failure(forged({}, { nonce: nonces.current(now) }), { acceptsNonce }), 'ok');
  assert.notEqual(createDpopNonces(Buffer.alloc(32, 8), 300).current(now), nonces.current(now));
});

test('DP-11 an iat outside the window is refused (too old, or in the future beyond the skew)', () => {
  assert.equal(failure(forged({}, { iat: now - 301 })), 'iat');
  assert.equal(failure(forged({}, { iat: now + 61 })), 'iat');
  assert.equal(failure(forged({}, { iat: now - 300 })), 'ok');
});

test('DP-12 at a resource: an ath or key mismatch is refused', () => {
  const proof = createDpopProof(key, { method: 'POST', url, accessToken: 'token-a' }, now);
  assert.equal(failure(proof, { accessToken: 'token-a', jkt: key.jkt }), 'ok');
  assert.equal(failure(proof, { accessToken: 'token-b', jkt: key.jkt }), 'ath');
  assert.equal(failure(createDpopProof(key, { method: 'POST', url }, now), { accessToken: 'token-a' }), 'ath');
  assert.equal(failure(proof, { accessToken: 'token-a', jkt: RFC_JKT }), 'key_mismatch');
});

test('proofs of EdDSA and RS256 keys verify; their jkt is the public key thumbprint', () => {
  for (const [alg, pair] of [
    ['EdDSA', generateKeyPairSync('ed25519')],
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const) {
    const k = dpopKeyFrom(pair.privateKey, alg);
    const result = verifyDpopProof(createDpopProof(k, { method: 'POST', url }, now), expect);
    assert.equal(result.ok && result.jkt, jwkThumbprint(pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), alg);
  }
});
