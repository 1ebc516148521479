import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

describe('introspection mode (RFC 7662)', () => {
  let as: TestIssuer;
  let apiKey: string;
  before(async () => {
    as = await startTestIssuer();
    apiKey = as.addResource(as.resource);
  });
  after(() => as.close());

  test('IN-02 a revoked token → ERR_TOKEN_INACTIVE', async () => {
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource, introspection: { credentials: { apiKey }, cacheTtlSeconds: 0 } });
    const token = as.accessToken();
    assert.equal((await verifier.verify(token)).subject, 'usr_alice');
    as.revoke(token);
    await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_INACTIVE' });
  });

  test('answers are cached for at most cacheTtlSeconds, keyed by the whole token', async () => {
    let now = Date.now();
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource, clock: () => now, introspection: { credentials: { apiKey }, cacheTtlSeconds: 2 } });
    const token = as.accessToken();
    const start = as.counts.introspection;
    await verifier.verify(token);
    await verifier.verify(token);
    assert.equal(as.counts.introspection - start, 1);
    // Same header and same claims but another jti: a different token, never served from the first one's answer.
    const sibling = as.accessToken();
    assert.equal(sibling.split('.')[0], token.split('.')[0]);
    await verifier.verify(sibling);
    assert.equal(as.counts.introspection - start, 2);
    as.revoke(token);
    now += 1_000;
    await verifier.verify(token); // still cached: revocation shows within the TTL
    now += 1_500;
    await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_INACTIVE' });
    assert.equal(as.counts.introspection - start, 3);
  });

  test("a cached answer never outlives the token's exp", async () => {
    let now = Date.now();
    const exp = Math.floor(now / 1000) + 20;
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: as.resource,
      clock: () => now,
      clockToleranceSeconds: 30,
      introspection: { credentials: { apiKey }, cacheTtlSeconds: 600 },
    });
    const token = as.accessToken({ exp });
    const start = as.counts.introspection;
    await verifier.verify(token);
    now = exp * 1000 + 5_000; // past exp, still inside the clock tolerance
    await verifier.verify(token);
    assert.equal(as.counts.introspection - start, 2);
  });

  test('concurrent verifications of one token share one introspection request', async () => {
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource, introspection: { credentials: { apiKey } } });
    const token = as.accessToken();
    await verifier.verify(as.accessToken()); // warm metadata and keys
    const start = as.counts.introspection;
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    assert.equal(as.counts.introspection - start, 1);
  });

  test('the resource may authenticate with client credentials (HTTP Basic) instead of an API key', async () => {
    as.addResourceClient('rs:files', 'p@ss word', as.resource);
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: as.resource,
      introspection: { credentials: { clientId: 'rs:files', clientSecret: 'p@ss word' }, cacheTtlSeconds: 0 },
    });
    const token = as.accessToken();
    assert.equal((await verifier.verify(token)).subject, 'usr_alice');
    as.revoke(token);
    await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_INACTIVE' });
  });

  test('the local checks run first: a token for another resource never reaches the introspection endpoint', async () => {
    const otherKey = as.addResource('https://other.example.test/api');
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: 'https://other.example.test/api',
      introspection: { credentials: { apiKey: otherKey }, cacheTtlSeconds: 0 },
    });
    await verifier.verify(as.accessToken({ aud: [as.resource, 'https://other.example.test/api'] }));
    const start = as.counts.introspection;
    await assert.rejects(verifier.verify(as.accessToken({ aud: as.resource })), { code: 'ERR_AUDIENCE_MISMATCH' });
    await assert.rejects(verifier.verify('e30.e30.AAAA'), { code: 'ERR_JWS_ALG_NOT_ALLOWED' });
    assert.equal(as.counts.introspection, start);
  });

  test('SR-14 a resource the AS does not know (bad API key): its 401 → ERR_INTROSPECTION_UNAUTHORIZED, a credential error', async () => {
    const verifier = createVerifier({ issuer: as.issuer, audience: as.resource, introspection: { credentials: { apiKey: 'mrk_x.nope' } } });
    await assert.rejects(verifier.verify(as.accessToken()), { code: 'ERR_INTROSPECTION_UNAUTHORIZED', status: 401 });
  });

  test('misuse: introspection without credentials throws TypeError', () => {
    assert.throws(
      () => createVerifier({ issuer: as.issuer, audience: as.resource, introspection: { credentials: {} as { apiKey: string } } }),
      TypeError,
    );
  });
});
