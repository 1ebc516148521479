import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { unkeyedAuditRowHash } from '../../src/audit/audit-chain.ts';
import type { AuditChainReport } from '../../src/audit/verify-audit-chain.ts';
import { AUDIT_GENESIS_HASH } from '../../src/store/store.ts';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { createTestDatabase, type Dialect, forEachStore, type StoreFixture, type TestDatabase } from '../helpers/stores.ts';
import { tamper } from '../helpers/tamper.ts';

const cli = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));

/** `mandate audit <args>` as an operator runs it, with the server's KEK. */
function mandateAudit(server: TestServer, url: string, args: string[]) {
  const env = { ...process.env, MANDATE_KEK: server.config.keys.kek!, MANDATE_LOG_LEVEL: 'silent' };
  return spawnSync(process.execPath, [cli, 'audit', ...args, '--db', url], { encoding: 'utf8', env });
}

async function adminVerify(server: TestServer, query = ''): Promise<AuditChainReport> {
  const response = await server.admin('GET', `/audit/verify${query}`);
  assert.equal(response.status, 200);
  return (await response.json()) as AuditChainReport;
}

forEachStore('audit trail', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
  });
  after(() => server.close());

  test('issuance, refusal, revocation and admin changes are recorded, each committed before the response', async () => {
    const auth = { authorization: basicAuth(agent.clientId, agent.clientSecret) };
    const issued = await server.postForm('/token', { grant_type: 'client_credentials' }, auth);
    const { access_token } = (await issued.json()) as { access_token: string };
    await server.postForm('/token', { grant_type: 'client_credentials', scope: 'exec' }, auth);
    await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, 'wrong-secret') });
    await server.postForm('/revoke', { token: access_token }, auth);
    await server.admin('POST', `/agents/${agent.clientId}/disable`);

    // No flush here: the responses above were sent only after their rows committed.
    const rows = await fixture.store.listAuditRows({ limit: 100, descending: false });
    const events = rows.map((r) => r.event);
    for (const event of ['resource.created', 'agent.created', 'token.issued', 'token.refused', 'token.revoked', 'agent.disabled']) {
      assert.ok(events.includes(event), `${event} missing from ${events.join(', ')}`);
    }
    const refusals = rows.filter((r) => r.event === 'token.refused').map((r) => r.detail['error']);
    assert.deepEqual(refusals.sort(), ['invalid_client', 'invalid_scope']);
    const issuedRow = rows.find((r) => r.event === 'token.issued')!;
    assert.equal(issuedRow.clientId, agent.clientId);
    assert.equal(issuedRow.ip, '127.0.0.1');

    const everything = JSON.stringify(rows);
    for (const secret of [agent.clientSecret, agent.apiKey, access_token, server.adminToken, 'wrong-secret']) {
      assert.ok(!everything.includes(secret), 'a secret leaked into the audit trail');
    }
    assert.deepEqual((await adminVerify(server)).problem, null);
  });

  test('secret-looking detail keys are redacted even if a caller passes them', async () => {
    await server.context.audit.record({ event: 'test.redaction', detail: { client_secret: 'x', password: 'y', refresh_token: 'z', kept: 'ok' } });
    const [row] = await fixture.store.listAuditRows({ event: 'test.redaction', limit: 1 });
    assert.deepEqual(row?.detail, { client_secret: '[redacted]', password: '[redacted]', refresh_token: '[redacted]', kept: 'ok' });
  });
});

/**
 * SR-07 (security review finding 7): each test tampers with a database of its own, so none sees another's damage.
 * The attacker has the database (SQL access), not the KEK.
 */
forEachStore('SR-07 audit chain anchoring', (fixture: StoreFixture) => {
  let database: TestDatabase;
  let server: TestServer;
  let target: { dialect: Dialect; url: string };
  let issue: () => Promise<Response>;

  const fresh = async () => {
    database = await createTestDatabase(fixture.dialect);
    target = { dialect: fixture.dialect, url: database.url };
    server = await startTestServer({ url: database.url });
    const agent = await registerAgentAndResource(server);
    issue = () => server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    for (let i = 0; i < 4; i++) assert.equal((await issue()).status, 200);
  };
  const dispose = async () => {
    await server?.close();
    await database?.drop();
  };

  test('SR-07 audit verify detects a truncated tail (admin API and CLI)', async (t) => {
    await fresh();
    t.after(dispose);
    const intact = await adminVerify(server);
    assert.equal(intact.ok, true, JSON.stringify(intact.problem));
    const head = intact.head.seq;
    assert.deepEqual(intact.anchor?.seq, head);

    await tamper(target, 'DELETE FROM audit_log WHERE seq > ?', [head - 2]);
    const report = await adminVerify(server);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problem, {
      kind: 'missing',
      seq: head - 1,
      message: `rows ${head - 1}–${head} are missing: the tail was cut short of the anchored head ${head}`,
    });
    const verify = mandateAudit(server, database.url, ['verify']);
    assert.equal(verify.status, 1, verify.stderr);
    assert.match(verify.stdout, new RegExp(`audit chain BROKEN at row ${head - 1}: rows ${head - 1}–${head} are missing`));

    // The server goes on from the anchor, not from the shortened table: the gap stays visible.
    assert.equal((await issue()).status, 200);
    assert.equal((await adminVerify(server)).problem?.kind, 'missing');
  });

  test('SR-07 audit verify detects an edited row whose chain was recomputed without the key', async (t) => {
    await fresh();
    t.after(dispose);
    const rows = await server.store.listAuditRows({ limit: 100 });
    const victim = rows.find((r) => r.event === 'token.issued')!;
    // The attack of the review: edit a row, then recompute every later link with plain SHA-256 (no secret needed).
    let prevHash = victim.prevHash;
    for (const row of rows.filter((r) => r.seq >= victim.seq)) {
      const edited = row.seq === victim.seq ? { ...row, subject: 'someone-else' } : row;
      const hash = unkeyedAuditRowHash(prevHash, edited);
      await tamper(target, 'UPDATE audit_log SET subject = ?, prev_hash = ?, hash = ? WHERE seq = ?', [edited.subject, prevHash, hash, row.seq]);
      prevHash = hash;
    }
    const report = await adminVerify(server);
    assert.deepEqual(report.problem, { kind: 'altered', seq: victim.seq, message: `row ${victim.seq} was altered (or its chain recomputed without the audit key)` });
    assert.equal(report.rowsChecked, victim.seq - 1);

    // Moving the anchor onto the recomputed head does not help without the key either.
    await tamper(target, 'UPDATE audit_anchor SET hash = ?, mac = ?', [prevHash, 'f'.repeat(64)]);
    const forged = await adminVerify(server);
    assert.equal(forged.problem?.kind, 'anchor');
    assert.match(forged.problem!.message, /does not verify with this key/);
    const verify = mandateAudit(server, database.url, ['verify', '--json']);
    assert.equal(verify.status, 1);
    assert.equal((JSON.parse(verify.stdout) as AuditChainReport).problem?.kind, 'anchor');
  });

  test('SR-07 a forged anchor stops audited writes until mandate audit reanchor, which leaves a trace', async (t) => {
    await fresh();
    t.after(dispose);
    const { head } = await adminVerify(server);
    // Truncate and set the anchor back onto the shortened table: the anchor's MAC cannot follow.
    const kept = (await server.store.listAuditRows({ limit: 1, afterSeq: head.seq - 3 }))[0]!;
    await tamper(target, 'DELETE FROM audit_log WHERE seq > ?', [kept.seq]);
    await tamper(target, 'UPDATE audit_anchor SET seq = ?, hash = ?', [kept.seq, kept.hash]);

    const refused = await issue();
    assert.equal(refused.status, 500, 'no token is issued without its audit row');
    assert.equal(((await refused.json()) as { error: string }).error, 'server_error');
    assert.equal((await adminVerify(server)).problem?.kind, 'anchor');

    const reanchor = mandateAudit(server, database.url, ['reanchor']);
    assert.equal(reanchor.status, 0, reanchor.stderr);
    assert.match(reanchor.stdout, /re-anchored at row \d+ \(audit\.reanchored\) after: the audit anchor does not verify/);
    assert.equal((await issue()).status, 200);
    const rows = await server.store.listAuditRows({ event: 'audit.reanchored', limit: 1 });
    assert.equal(rows[0]?.actor, 'cli');
    assert.deepEqual(rows[0]?.detail['table_head'], { seq: kept.seq, hash: kept.hash });
    const after = await adminVerify(server);
    assert.equal(after.ok, true, 'the truncated rows are gone for good; the reanchored row says where');
    assert.deepEqual(after.reanchoredAt, [kept.seq + 1]);
    assert.equal(after.head.seq, kept.seq + 2);
    assert.match(mandateAudit(server, database.url, ['verify']).stdout, new RegExp(`re-anchored by an operator at row ${kept.seq + 1}`));
  });

  test('SR-07 rows written before the audit key are reported unkeyed unless vouched for; the anchor cannot be downgraded', async (t) => {
    database = await createTestDatabase(fixture.dialect);
    target = { dialect: fixture.dialect, url: database.url };
    t.after(dispose);
    // A database of the version before: migrated, then three rows chained with plain SHA-256 and an unadopted anchor.
    server = await startTestServer({ url: database.url });
    await server.close();
    await tamper(target, 'DELETE FROM audit_log');
    let prevHash = AUDIT_GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const row = { seq, tsMs: 1_700_000_000_000 + seq, event: 'agent.created', actor: 'cli', subject: `agt_${seq}`, clientId: null, ip: null, detail: {} };
      const hash = unkeyedAuditRowHash(prevHash, row);
      await tamper(target, 'INSERT INTO audit_log (seq, ts_ms, event, actor, subject, client_id, ip, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        seq, row.tsMs, row.event, row.actor, row.subject, null, null, '{}', prevHash, hash,
      ]);
      prevHash = hash;
    }
    await tamper(target, 'UPDATE audit_anchor SET seq = 3, hash = ?, keyed_from_seq = 4, mac = NULL', [prevHash]);

    const kek = server.config.keys.kek;
    server = await startTestServer({ url: database.url }, { keys: { kek } });
    const unvouched = await adminVerify(server);
    assert.deepEqual(unvouched.problem?.kind, 'unkeyed');
    assert.equal(unvouched.unkeyedRows, 3);
    assert.equal((await adminVerify(server, '?allow_unkeyed=3')).ok, true);

    // The first append (the test server's admin token) adopted the anchor; from then on every row carries a MAC.
    await registerAgentAndResource(server);
    const adopted = await adminVerify(server, '?allow_unkeyed=3');
    assert.equal(adopted.ok, true, JSON.stringify(adopted.problem));
    assert.ok(adopted.head.seq > 3);
    const cli = mandateAudit(server, database.url, ['verify', '--allow-unkeyed', '3']);
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /rows 1–3 predate the audit key/);

    // Claiming later rows as "unkeyed" needs an anchor without a MAC, which is no longer accepted.
    await tamper(target, 'UPDATE audit_anchor SET keyed_from_seq = seq + 1, mac = NULL');
    const downgraded = await adminVerify(server, '?allow_unkeyed=3');
    assert.equal(downgraded.ok, false);
    assert.deepEqual(downgraded.problem, { kind: 'altered', seq: 4, message: 'row 4 was altered (or its chain recomputed without the audit key)' });
  });
});
