import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import { createDpopNonces, type DpopReplayCache, DpopProver } from '../../src/dpop/index.ts';
import { createVerifier, type VerifierOptions } from '../../src/verify/create-verifier.ts';
import { buildProtectedResourceMetadata } from '../../src/metadata/protected-resource.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.ts';

/**
 * The verifier's DPoP presentation check (RFC 9449 §7), called directly with the request a middleware would pass:
 * each refusal is its own coded error. The adapters' wire behaviour is in helpers/adapter-suite.ts.
 */
describe('createVerifier with DPoP (RFC 9449 §7)', () => {
  let as: TestIssuer;
  before(async () => {
    as = await startTestIssuer();
  });
  after(() => as.close());
  const nowMs = Date.now();
  const verifierFor = (dpop: VerifierOptions['dpop'] = {}) => createVerifier({ issuer: as.issuer, audience: as.resource, clock: () => nowMs, dpop });
  const prover = DpopProver.generate('ES256', { clock: () => nowMs });
  let url: string;
  before(() => {
    url = as.resource;
  });
  const request = (proof: string | null, scheme: 'Bearer' | 'DPoP' = 'DPoP', method = 'POST') => ({ scheme, proof, method, url });

  test('the prover’s jkt is the RFC 7638 thumbprint jose computes for the same key', async () => {
    assert.equal(prover.jkt, await calculateJwkThumbprint(prover.key.publicJwk as Parameters<typeof calculateJwkThumbprint>[0]));
  });

  test('a bound token with its proof → AuthInfo with confirmation.jkt', async () => {
    const token = as.accessToken({ cnf: { jkt: prover.jkt } });
    const auth = await verifierFor().verify(token, { request: request(prover.proof('POST', url, token)) });
    assert.deepEqual(auth.confirmation, { jkt: prover.jkt });
  });

  test('DP-20 a bound token without its request, or as Bearer → ERR_TOKEN_SENDER_CONSTRAINED; a cnf without jkt too', async () => {
    const token = as.accessToken({ cnf: { jkt: prover.jkt } });
    await assert.rejects(verifierFor().verify(token), { code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
    await assert.rejects(verifierFor().verify(token, { request: request(null, 'Bearer') }), { code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
    await assert.rejects(verifierFor().verify(as.accessToken({ cnf: { 'x5t#S256': 'abc' } }), { request: request(null, 'Bearer') }), { code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
  });

  test('DP-13 proof refusals carry their failure: missing, htm, replayed', async () => {
    const token = as.accessToken({ cnf: { jkt: prover.jkt } });
    const verifier = verifierFor();
    await assert.rejects(verifier.verify(token, { request: request(null) }), { code: 'ERR_DPOP_PROOF_INVALID', failure: 'missing' });
    await assert.rejects(verifier.verify(token, { request: request(prover.proof('GET', url, token)) }), { code: 'ERR_DPOP_PROOF_INVALID', failure: 'htm' });
    const proof = prover.proof('POST', url, token);
    await verifier.verify(token, { request: request(proof) });
    await assert.rejects(verifier.verify(token, { request: request(proof) }), { code: 'ERR_DPOP_PROOF_INVALID', failure: 'replayed' });
  });

  test('DP-15 a replay cache shared by two verifiers (two instances of one resource) refuses a proof the other accepted', async () => {
    const seen = new Map<string, number>();
    const shared: DpopReplayCache = { consumeOnce: async (key, expiresAt) => (seen.has(key) ? false : (seen.set(key, expiresAt), true)) };
    const token = as.accessToken({ cnf: { jkt: prover.jkt } });
    const proof = prover.proof('POST', url, token);
    await verifierFor({ replayCache: shared }).verify(token, { request: request(proof) });
    await assert.rejects(verifierFor({ replayCache: shared }).verify(token, { request: request(proof) }), { code: 'ERR_DPOP_PROOF_INVALID', failure: 'replayed' });
  });

  test('DP-10 resource nonces: none or a stale one → ERR_DPOP_NONCE_REQUIRED carrying the current nonce; with it → accepted', async () => {
    const nonces = createDpopNonces(randomBytes(32), 60);
    const verifier = verifierFor({ nonces });
    const token = as.accessToken({ cnf: { jkt: prover.jkt } });
    const err = await verifier.verify(token, { request: request(prover.proof('POST', url, token)) }).then(
      () => assert.fail('accepted without a nonce'),
      (e: { code: string; nonce: string }) => e,
    );
    assert.equal(err.code, 'ERR_DPOP_NONCE_REQUIRED');
    assert.equal(err.nonce, nonces.current(nowMs / 1000));
    const stale = nonces.current(nowMs / 1000 - 600);
    const withStale = new DpopProver(prover.key, { clock: () => nowMs });
    withStale.rememberNonce(url, new Headers({ 'dpop-nonce': stale }));
    await assert.rejects(verifier.verify(token, { request: request(withStale.proof('POST', url, token)) }), { code: 'ERR_DPOP_NONCE_REQUIRED' });
    withStale.rememberNonce(url, new Headers({ 'dpop-nonce': err.nonce }));
    assert.equal((await verifier.verify(token, { request: request(withStale.proof('POST', url, token)) })).subject, 'usr_alice');
  });

  test('dpop.required: a token without cnf.jkt → ERR_TOKEN_NOT_DPOP_BOUND; the metadata says so', async () => {
    await assert.rejects(verifierFor({ required: true }).verify(as.accessToken(), { request: request(null, 'Bearer') }), { code: 'ERR_TOKEN_NOT_DPOP_BOUND', required: true });
    await assert.rejects(verifierFor().verify(as.accessToken(), { request: request(null, 'DPoP') }), { code: 'ERR_TOKEN_NOT_DPOP_BOUND', required: false });
    const metadata = buildProtectedResourceMetadata({ resource: as.resource, authorizationServers: [as.issuer], dpopSigningAlgValuesSupported: ['ES256', 'EdDSA'], dpopBoundAccessTokensRequired: true });
    assert.deepEqual(metadata.dpop_signing_alg_values_supported, ['ES256', 'EdDSA']);
    assert.equal(metadata.dpop_bound_access_tokens_required, true);
  });
});
