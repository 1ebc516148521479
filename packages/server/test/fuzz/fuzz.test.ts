import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { userInfo } from 'node:os';
import { test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import { createTestDatabase, forEachStore } from '../helpers/stores.ts';
import { checkResponse, OracleFailure, watchUnhandled } from './fuzz-harness.ts';
import { fuzzStore, TARGET_COUNT } from './fuzz-suite.ts';
import { openProbe } from './invariants.ts';

/**
 * Quick subset of `npm run fuzz` (scripts/fuzz.ts): every target (each grant of the token endpoint, /authorize, PAR,
 * introspection, revocation, registration metadata, userinfo, device, CIBA, the admin API, the login form, client
 * assertions, DPoP proofs, CIMD documents and access tokens at the SDK verifier, and the success paths: codes,
 * refresh tokens, exchanges, DPoP proofs, client assertions and registrations valid but for one field) with a few
 * inputs, on both stores. Oracles: no 5xx, errors in the endpoint's format, no durable row written by a refused input,
 * what each success path must refuse and may give, no broken relation in the database afterwards (grants, lineage,
 * audit rows, codes used once, one live refresh token per family), no unhandled rejection. FUZZ_RUNS and FC_SEED
 * change the size and the seed.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
/** The success-path targets make a code or a refresh token through the real endpoints for each input: fewer here. */
const SUCCESS_RUNS = Number(process.env['FUZZ_RUNS'] ?? 20);

forEachStore('fuzzing (quick subset)', (fixture) => {
  test(`SR-FUZZ every endpoint and parser: ${RUNS} inputs per target (${SUCCESS_RUNS} per success path), no 5xx, spec-format errors, no partial writes, no unhandled rejections`, async () => {
    const unhandled = watchUnhandled();
    const before = unhandled.count();
    const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
    const summaries = await fuzzStore(fixture.url, (name) => (name.startsWith('success:') ? SUCCESS_RUNS : RUNS), seed);
    assert.equal(summaries.length, TARGET_COUNT);
    const failures = summaries.flatMap((s) => s.failures.map((f) => `${s.target}: ${f}`));
    assert.deepEqual(failures, [], `seed ${seed}`);
    assert.equal(unhandled.count() - before, 0, `unhandled: ${unhandled.list().map(String).join('\n')}`);
    // The generators reach the success paths too, not only refusals: each success-path target (valid artefacts made
    // through the real endpoints, one field changed) both succeeds and is refused by the grant's own checks.
    assert.ok(summaries.some((s) => s.accepted > 0), JSON.stringify(summaries));
    const successPaths = summaries.filter((s) => s.target.startsWith('success:'));
    assert.equal(successPaths.length, 7);
    for (const s of successPaths) assert.ok(s.accepted > 0 && s.refused > 0, `${s.target}: ${JSON.stringify(s.outcomes)}`);
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

/** Runs statements on a test database behind the server's back (a crash or a bug would leave such rows). */
async function writeRaw(url: string, statements: string[]): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new DatabaseSync(url.slice('sqlite:'.length));
    for (const sql of statements) db.exec(sql);
    db.close();
    return;
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (!parsed.username) parsed.username = process.env['PGUSER'] ?? userInfo().username;
  const client = new pg.Client({ connectionString: parsed.toString(), options: `-c search_path=${schema}` });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

forEachStore('fuzzing invariants', (fixture) => {
  test('SR-FUZZ the invariant queries find what a success path could leave half-written: a token without its grant, lineage or audit row, a code used twice, two live refresh tokens in a family', async () => {
    const probe = await openProbe(fixture.url);
    try {
      assert.deepEqual(await probe.brokenRelations(), []);
      const yes = fixture.dialect === 'postgres' ? 'true' : '1';
      const issued = (seq: number, detail: object) =>
        `INSERT INTO audit_log (seq, ts_ms, event, detail, prev_hash, hash) VALUES (${seq}, 1, 'token.issued', '${JSON.stringify(detail)}', 'x', 'x')`;
      await writeRaw(fixture.url, [
        `INSERT INTO users (id, email, email_verified, is_admin, status, tokens_valid_after, created_at, updated_at) VALUES ('u2', 'u2@example.com', ${yes}, ${yes}, 'active', 0, 1, 1)`,
        "INSERT INTO user_grants (id, user_id, client_id, scopes, resources, auth_time, status, created_at, expires_at) VALUES ('g2', 'u2', 'no-such-client', '[]', '[]', 1, 'active', 1, 2)",
        "INSERT INTO authorization_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at, consumed_at) VALUES ('c1', 'g2', 'https://app.example.com/callback', 'x', 2, 1)",
        "INSERT INTO refresh_tokens (token_hash, grant_id, status, created_at, expires_at) VALUES ('r1', 'g2', 'active', 1, 2)",
        "INSERT INTO refresh_tokens (token_hash, grant_id, status, created_at, expires_at) VALUES ('r2', 'g2', 'active', 1, 2)",
        // One code, two issuances from it.
        // (Each row names its refresh token's hash, as a token.issued row does: only the relations below break.)
        issued(1, { grant_type: 'authorization_code', grant_id: 'g2', jti: 'j1', refresh_hash: 'r1' }),
        issued(2, { grant_type: 'authorization_code', grant_id: 'g2', jti: 'j1b', refresh_hash: 'r2' }),
        issued(3, { grant_type: 'refresh_token', grant_id: 'g9', jti: 'j2' }),
        // An exchange with two parents and one lineage row; a lineage row for a token never issued, of a parent never issued.
        issued(4, { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', jti: 'j3', parent_jtis: ['j1', 'jX'] }),
        "INSERT INTO token_lineage (parent_jti, child_jti, expires_at) VALUES ('j1', 'j3', 2)",
        "INSERT INTO token_lineage (parent_jti, child_jti, expires_at) VALUES ('jY', 'j4', 2)",
      ]);
      assert.deepEqual((await probe.brokenRelations()).map((b) => b.split(':')[0]), [
        'grant without its client',
        'issued token naming a grant that does not exist',
        'exchanged token without the lineage row to its parent',
        'lineage row whose token has no token.issued audit row',
        'lineage row whose parent was never issued',
        'code redeemed more than once',
        'refresh-token family with two live members',
      ]);
    } finally {
      await probe.close();
    }
  });
});
