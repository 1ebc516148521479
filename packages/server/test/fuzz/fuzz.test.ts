import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { createTestDatabase, forEachStore } from '../helpers/stores.ts';
import { checkResponse, OracleFailure, watchUnhandled } from './fuzz-harness.ts';
import { fuzzStore, TARGET_COUNT } from './fuzz-suite.ts';
import { openProbe } from './invariants.ts';

/**
 * Quick subset of `npm run fuzz` (scripts/fuzz.ts): every target (each grant of the token endpoint, /authorize, PAR,
 * introspection, revocation, registration metadata, userinfo, device, CIBA, the admin API, the login form, client
 * assertions, DPoP proofs, CIMD documents and access tokens at the SDK verifier) with a few inputs, on both stores.
 * Oracles: no 5xx, errors in the endpoint's format, no durable row written by a refused input, no broken relation in
 * the database afterwards, no unhandled rejection. FUZZ_RUNS and FC_SEED change the size and the seed.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);

forEachStore('fuzzing (quick subset)', (fixture) => {
  test(`SR-FUZZ every endpoint and parser: ${RUNS} inputs per target, no 5xx, spec-format errors, no partial writes, no unhandled rejections`, async () => {
    const unhandled = watchUnhandled();
    const before = unhandled.count();
    const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
    const summaries = await fuzzStore(fixture.url, RUNS, seed);
    assert.equal(summaries.length, TARGET_COUNT);
    const failures = summaries.flatMap((s) => s.failures.map((f) => `${s.target}: ${f}`));
    assert.deepEqual(failures, [], `seed ${seed}`);
    assert.equal(unhandled.count() - before, 0, `unhandled: ${unhandled.list().map(String).join('\n')}`);
    // The generators reach the success paths too, not only refusals.
    assert.ok(summaries.some((s) => s.accepted > 0), JSON.stringify(summaries));
  });
});

test('SR-FUZZ the oracles refuse a 5xx, a stack trace and an error out of its endpoint\'s format', () => {
  const request = { method: 'POST', path: '/token', headers: {} };
  const json = { 'content-type': 'application/json' };
  const refused = (format: Parameters<typeof checkResponse>[0], status: number, headers: Record<string, string>, body: string) =>
    assert.throws(() => checkResponse(format, request, { status, headers, body }), OracleFailure);
  refused('oauth', 500, json, '{"error":"server_error"}');
  refused('page', 503, { 'content-type': 'text/html' }, '<p>down</p>');
  refused('oauth', 400, json, '{"error":"x","stack":"at handler (src/token.ts:12:3)"}');
  refused('oauth', 400, { 'content-type': 'text/plain' }, 'bad');
  refused('oauth', 400, json, '{"message":"no error member"}');
  refused('bearer', 401, json, '{"error":"invalid_token"}');
  refused('page', 400, { 'content-type': 'text/plain' }, 'bad');
  assert.equal(checkResponse('oauth', request, { status: 400, headers: json, body: '{"error":"invalid_request"}' }), 'refused');
  assert.equal(checkResponse('bearer', request, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: '' }), 'refused');
  assert.equal(checkResponse('admin', request, { status: 400, headers: { 'content-type': 'application/problem+json' }, body: '{"type":"urn:x"}' }), 'refused');
  assert.equal(checkResponse('page', request, { status: 302, headers: {}, body: '' }), 'accepted');
});

test('SR-FUZZ the invariant query finds a grant without its client or user and a refresh token without its audit row', async () => {
  const database = await createTestDatabase('sqlite');
  const store = await openStore(database.url);
  await store.migrate();
  await store.close();
  const probe = await openProbe(database.url);
  try {
    assert.deepEqual(await probe.brokenRelations(), []);
    const before = await probe.durableCounts();
    // A partial write, as a crash between statements would leave it (foreign keys off, as a broken migration might).
    const db = new DatabaseSync(database.url.slice('sqlite:'.length), { enableForeignKeyConstraints: false });
    db.exec("INSERT INTO user_grants (id, user_id, client_id, scopes, resources, auth_time, status, created_at, expires_at) VALUES ('g1', 'u1', 'c1', '[]', '[]', 1, 'active', 1, 2)");
    db.exec("INSERT INTO refresh_tokens (token_hash, grant_id, status, created_at, expires_at) VALUES ('h1', 'g1', 'active', 1, 2)");
    db.close();
    assert.notEqual(await probe.durableCounts(), before);
    assert.deepEqual((await probe.brokenRelations()).map((b) => b.split(':')[0]), [
      'grant without its client', 'grant without its user', 'refresh token whose grant has no token.issued audit row naming it',
      'refresh token without the token.issued audit row naming its hash',
    ]);
  } finally {
    await probe.close();
    await database.drop();
  }
});
