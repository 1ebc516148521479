import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import type { VerifierOptions } from '../../src/verify/create-verifier.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('createVerifier (RFC 9068 §4)', () => {
  let as: TestIssuer;
  before(async () => {
    as = await startTestIssuer();
  });
  after(() => as.close());
  const verifierFor = (extra: Partial<VerifierOptions> = {}) => createVerifier({ issuer: as.issuer, audience: as.resource, ...extra });

  test('a valid ES256 token verifies and yields AuthInfo', async () => {
    const token = as.accessToken({ scope: 'files:read files:write' });
    const auth = await verifierFor().verify(token, { requiredScopes: ['files:read'] });
    assert.equal(auth.subject, 'usr_alice');
    assert.equal(auth.clientId, 'agt_writer');
    assert.deepEqual(auth.scopes, ['files:read', 'files:write']);
    assert.equal(auth.issuer, as.issuer);
    assert.deepEqual(auth.audience, [as.resource]);
    assert.equal(auth.resource?.href, as.resource);
    assert.equal(auth.token, token);
    assert.equal(typeof auth.expiresAt, 'number');
    assert.deepEqual(auth.actors, []);
  });

  test('EdDSA and RS256 tokens verify; the fixture tokens also pass jose jwtVerify', async () => {
    const verifier = verifierFor();
    for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
      const token = as.accessToken({}, { alg });
      assert.equal((await verifier.verify(token)).subject, 'usr_alice');
      const jwks = createLocalJWKSet({ keys: as.keys.map((k) => k.publicJwk) });
      await jwtVerify(token, jwks, { issuer: as.issuer, audience: as.resource, typ: 'at+jwt' });
    }
  });

  test('AT-01 typ other than at+jwt → ERR_TOKEN_TYPE_INVALID; application/at+jwt is accepted', async () => {
    const verifier = verifierFor();
    await assert.rejects(verifier.verify(as.accessToken({}, { header: { typ: 'JWT' } })), { code: 'ERR_TOKEN_TYPE_INVALID' });
    await assert.rejects(verifier.verify(as.accessToken({}, { header: { typ: undefined } })), { code: 'ERR_TOKEN_TYPE_INVALID' });
    const auth = await verifier.verify(as.accessToken({}, { header: { typ: 'application/at+jwt' } }));
    assert.equal(auth.subject, 'usr_alice');
  });

  test('AT-02 iss other than the configured issuer → ERR_ISSUER_MISMATCH', async () => {
    await assert.rejects(verifierFor().verify(as.accessToken({ iss: `${as.issuer}/other` })), { code: 'ERR_ISSUER_MISMATCH' });
  });

  test('AT-03 aud without this resource → ERR_AUDIENCE_MISMATCH; an aud array naming it is accepted', async () => {
    const verifier = verifierFor();
    await assert.rejects(verifier.verify(as.accessToken({ aud: 'https://other.example.test/mcp' })), { code: 'ERR_AUDIENCE_MISMATCH' });
    // Exact match: a trailing slash or another case is another resource.
    await assert.rejects(verifier.verify(as.accessToken({ aud: `${as.resource}/` })), { code: 'ERR_AUDIENCE_MISMATCH' });
    await assert.rejects(verifier.verify(as.accessToken({ aud: ['https://a.example.test', 'https://b.example.test'] })), {
      code: 'ERR_AUDIENCE_MISMATCH',
    });
    const auth = await verifier.verify(as.accessToken({ aud: ['https://a.example.test', as.resource] }));
    assert.deepEqual(auth.audience, ['https://a.example.test', as.resource]);
  });

  test('AT-04 tampered payload → ERR_JWS_SIGNATURE_INVALID', async () => {
    const [header, , signature] = as.accessToken().split('.');
    const forged = `${header}.${b64(as.claims({ scope: 'files:read files:write admin' }))}.${signature}`;
    await assert.rejects(verifierFor().verify(forged), { code: 'ERR_JWS_SIGNATURE_INVALID' });
  });

  test('AT-05 alg none → ERR_JWS_ALG_NOT_ALLOWED', async () => {
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: as.keyFor('ES256').kid })}.${b64(as.claims())}.`;
    await assert.rejects(verifierFor().verify(token), { code: 'ERR_TOKEN_MALFORMED' });
    const withSignature = `${token}AAAA`;
    const noAlg = `e30.${token.split('.')[1]}.AAAA`;
    await assert.rejects(verifierFor().verify(noAlg), { code: 'ERR_JWS_ALG_NOT_ALLOWED' });
    await assert.rejects(verifierFor().verify(withSignature), { code: 'ERR_JWS_ALG_NOT_ALLOWED' });
  });

  test('AT-05 HS256 signed with the public key bytes → ERR_JWS_ALG_NOT_ALLOWED', async () => {
    const key = as.keyFor('RS256');
    const publicPem = JSON.stringify(key.publicJwk);
    for (const secret of [publicPem, Buffer.from(key.publicJwk.n ?? '', 'base64url')]) {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })}.${b64(as.claims())}`;
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await assert.rejects(verifierFor().verify(token), { code: 'ERR_JWS_ALG_NOT_ALLOWED' });
    }
  });

  test('an algorithm the verifier was not configured for → ERR_JWS_ALG_NOT_ALLOWED', async () => {
    const verifier = verifierFor({ algorithms: ['ES256'] });
    await assert.rejects(verifier.verify(as.accessToken({}, { alg: 'EdDSA' })), { code: 'ERR_JWS_ALG_NOT_ALLOWED' });
  });

  test('alg/key confusion: RS256 header with the kid of an EC key → ERR_JWKS_NO_MATCHING_KEY', async () => {
    const token = as.accessToken({}, { key: as.keyFor('RS256'), header: { kid: as.keyFor('ES256').kid } });
    await assert.rejects(verifierFor().verify(token), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  test('AT-06 expired token → ERR_TOKEN_EXPIRED; within the clock tolerance it is accepted', async () => {
    const now = 2_000_000_000_000;
    const clock = () => now;
    const verifier = verifierFor({ clock, clockToleranceSeconds: 30 });
    const exp = now / 1000 - 31;
    await assert.rejects(verifier.verify(as.accessToken({ exp, iat: exp - 300 })), { code: 'ERR_TOKEN_EXPIRED' });
    const auth = await verifier.verify(as.accessToken({ exp: now / 1000 - 29, iat: exp - 300 }));
    assert.equal(auth.expiresAt, now / 1000 - 29);
  });

  test('AT-06 not-yet-valid token (nbf, iat in the future) → ERR_TOKEN_NOT_YET_VALID', async () => {
    const now = 2_000_000_000_000;
    const verifier = verifierFor({ clock: () => now, clockToleranceSeconds: 10 });
    const t = now / 1000;
    await assert.rejects(verifier.verify(as.accessToken({ nbf: t + 60, iat: t, exp: t + 300 })), { code: 'ERR_TOKEN_NOT_YET_VALID', claim: 'nbf' });
    await assert.rejects(verifier.verify(as.accessToken({ iat: t + 60, exp: t + 300 })), { code: 'ERR_TOKEN_NOT_YET_VALID', claim: 'iat' });
    assert.ok(await verifier.verify(as.accessToken({ nbf: t + 5, iat: t, exp: t + 300 })));
  });

  test('AT-07 a missing or ill-typed required claim → ERR_CLAIM_INVALID naming it', async () => {
    const verifier = verifierFor();
    for (const claim of ['sub', 'client_id', 'jti', 'iat', 'exp', 'iss', 'aud']) {
      await assert.rejects(verifier.verify(as.accessToken({ [claim]: undefined })), { code: 'ERR_CLAIM_INVALID', claim, reason: 'missing' });
    }
    await assert.rejects(verifier.verify(as.accessToken({ scope: ['files:read'] })), { code: 'ERR_CLAIM_INVALID', claim: 'scope' });
    await assert.rejects(verifier.verify(as.accessToken({ exp: '9999999999' })), { code: 'ERR_CLAIM_INVALID', claim: 'exp' });
    await assert.rejects(verifier.verify(as.accessToken({ act: { client_id: 'x' } })), { code: 'ERR_CLAIM_INVALID', claim: 'act' });
  });

  test('malformed tokens → ERR_TOKEN_MALFORMED', async () => {
    const verifier = verifierFor();
    const good = as.accessToken();
    for (const token of ['', 'abc', 'a.b', `${good}.x.y`, `${good}!`, `${b64([1])}.e30.AAAA`]) {
      await assert.rejects(verifier.verify(token), { code: 'ERR_TOKEN_MALFORMED' }, token);
    }
  });

  test('a crit header → ERR_TOKEN_MALFORMED (RFC 7515 §4.1.11)', async () => {
    await assert.rejects(verifierFor().verify(as.accessToken({}, { header: { crit: ['exp'], exp: 1 } })), { code: 'ERR_TOKEN_MALFORMED' });
  });

  test('jwk, jku and x5u headers are ignored: an attacker key named in the token is never used', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    const sign = (header: Record<string, unknown>) => {
      const input = `${b64(header)}.${b64(as.claims())}`;
      const sig = cryptoSign('sha256', Buffer.from(input), { key: attacker.privateKey, dsaEncoding: 'ieee-p1363' });
      return `${input}.${sig.toString('base64url')}`;
    };
    const verifier = verifierFor();
    const base = { alg: 'ES256', typ: 'at+jwt', jwk, jku: `${as.origin}/evil`, x5u: `${as.origin}/evil` };
    await assert.rejects(verifier.verify(sign({ ...base, kid: 'attacker' })), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await assert.rejects(verifier.verify(sign({ ...base, kid: as.keyFor('ES256').kid })), { code: 'ERR_JWS_SIGNATURE_INVALID' });
  });

  test('unknown kid → ERR_JWKS_NO_MATCHING_KEY after exactly one refetch', async () => {
    const verifier = verifierFor();
    await verifier.verify(as.accessToken());
    const before = as.counts.jwks;
    const unpublished = as.createKey('ES256', false);
    await assert.rejects(verifier.verify(as.accessToken({}, { key: unpublished })), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal(as.counts.jwks - before, 1);
    as.publish(unpublished);
  });

  test('refetch cooldown: a burst of unknown kids costs one JWKS fetch per cooldown', async () => {
    let now = Date.now();
    const verifier = verifierFor({ clock: () => now, jwksRefetchCooldownSeconds: 30 });
    await verifier.verify(as.accessToken());
    const before = as.counts.jwks;
    const forged = () => as.accessToken({}, { header: { kid: `attack-${randomUUID()}` } });
    const burst = await Promise.allSettled(Array.from({ length: 200 }, () => verifier.verify(forged())));
    assert.ok(burst.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'ERR_JWKS_NO_MATCHING_KEY'));
    for (let i = 0; i < 50; i++) await assert.rejects(verifier.verify(forged()), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal(as.counts.jwks - before, 1);
    now += 31_000;
    await assert.rejects(verifier.verify(forged()), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal(as.counts.jwks - before, 2);
  });

  test('key rotation: a key published after the first fetch is picked up on its first token', async () => {
    let now = Date.now();
    const verifier = verifierFor({ clock: () => now });
    await verifier.verify(as.accessToken());
    now += 31_000; // past any cooldown from the first fetch
    const rotated = as.createKey('ES256');
    const auth = await verifier.verify(as.accessToken({}, { key: rotated }));
    assert.equal(auth.subject, 'usr_alice');
  });

  test('metadata whose issuer differs from the configured issuer → ERR_METADATA_ISSUER_MISMATCH', async () => {
    const impostor = await startTestIssuer({ metadataIssuer: 'https://as.example.test' });
    try {
      const verifier = createVerifier({ issuer: impostor.issuer, audience: impostor.resource });
      await assert.rejects(verifier.verify(impostor.accessToken()), { code: 'ERR_METADATA_ISSUER_MISMATCH' });
      assert.equal(impostor.counts.jwks, 0);
    } finally {
      await impostor.close();
    }
  });

  test('an issuer with a path is discovered at the path-inserted metadata URL (RFC 8414 §3.1)', async () => {
    const tenant = await startTestIssuer({ path: '/tenant1' });
    try {
      const verifier = createVerifier({ issuer: tenant.issuer, audience: tenant.resource });
      assert.equal((await verifier.verify(tenant.accessToken())).issuer, tenant.issuer);
    } finally {
      await tenant.close();
    }
  });

  test('a DPoP-bound token (cnf.jkt) presented as a bearer token → ERR_TOKEN_SENDER_CONSTRAINED', async () => {
    await assert.rejects(verifierFor().verify(as.accessToken({ cnf: { jkt: 'abc' } })), { code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
  });

  test('missing required scope → ERR_INSUFFICIENT_SCOPE naming the required and missing scopes', async () => {
    await assert.rejects(verifierFor().verify(as.accessToken({ scope: 'files:read' }), { requiredScopes: ['files:read', 'files:write'] }), {
      code: 'ERR_INSUFFICIENT_SCOPE',
      requiredScopes: ['files:read', 'files:write'],
      missingScopes: ['files:write'],
    });
  });

  test('AuthInfo of an agent acting for a user: actor chain outermost first, agentId from act', async () => {
    const act = { sub: 'agt_planner', sub_profile: 'ai_agent', client_id: 'agt_planner', act: { sub: 'agt_helper', sub_profile: 'ai_agent', client_id: 'agt_helper' } };
    const auth = await verifierFor().verify(as.accessToken({ sub: 'usr_alice', client_id: 'agt_planner', act }));
    assert.equal(auth.subject, 'usr_alice');
    assert.equal(auth.agentId, 'agt_planner');
    assert.deepEqual(auth.actors, [
      { subject: 'agt_planner', subjectProfile: 'ai_agent', clientId: 'agt_planner' },
      { subject: 'agt_helper', subjectProfile: 'ai_agent', clientId: 'agt_helper' },
    ]);
    assert.deepEqual(auth.claims.act, act);
  });

  test('AuthInfo of an agent acting as itself: agentId is the subject', async () => {
    const auth = await verifierFor().verify(as.accessToken({ sub: 'agt_solo', client_id: 'agt_solo', sub_profile: 'ai_agent' }));
    assert.equal(auth.agentId, 'agt_solo');
    assert.equal(auth.subjectProfile, 'ai_agent');
    assert.deepEqual(auth.actors, []);
  });

  test('an unreachable authorization server → ERR_METADATA_FETCH_FAILED (503 at the middleware, not 401)', async () => {
    const gone = await startTestIssuer();
    const verifier = createVerifier({ issuer: gone.issuer, audience: gone.resource, httpTimeoutMs: 1000 });
    const token = gone.accessToken();
    await gone.close();
    await assert.rejects(verifier.verify(token), { code: 'ERR_METADATA_FETCH_FAILED' });
  });

  test('a JWKS that cannot be fetched → ERR_JWKS_FETCH_FAILED, retried only after the cooldown', async () => {
    let now = Date.now();
    const verifier = verifierFor({ clock: () => now });
    const before = as.counts.jwks;
    as.setJwksStatus(503);
    try {
      await assert.rejects(verifier.verify(as.accessToken()), { code: 'ERR_JWKS_FETCH_FAILED' });
      await assert.rejects(verifier.verify(as.accessToken()), { code: 'ERR_JWKS_FETCH_FAILED' });
      assert.equal(as.counts.jwks - before, 1);
    } finally {
      as.setJwksStatus(200);
    }
    now += 31_000;
    assert.equal((await verifier.verify(as.accessToken())).subject, 'usr_alice');
    assert.equal(as.counts.jwks - before, 2);
  });

  test('misuse throws TypeError at creation', () => {
    assert.throws(() => createVerifier({ audience: 'https://r.example' } as VerifierOptions), TypeError);
    assert.throws(() => createVerifier({ issuer: 'http://as.example', audience: 'https://r.example' }), TypeError);
    assert.throws(() => createVerifier({ issuer: 'https://as.example', audience: [] }), TypeError);
    assert.throws(() => createVerifier({ issuer: 'https://as.example', audience: 'x', algorithms: ['HS256' as 'ES256'] }), TypeError);
    assert.throws(() => createVerifier({ issuer: 'https://as.example', audience: 'x', clockToleranceSeconds: 3600 }), TypeError);
    assert.rejects(createVerifier({ issuer: 'https://as.example', audience: 'x' }).verify(42 as unknown as string), TypeError);
  });
});
