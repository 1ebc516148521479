import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { verifyAuditChain } from '../../src/audit/verify-audit-chain.ts';
import pg from 'pg';
import { DatabaseSync } from 'node:sqlite';
import { userInfo } from 'node:os';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore, type StoreFixture } from '../helpers/stores.ts';

/** Runs raw SQL against the fixture's database, as an attacker with database access would. */
async function tamper(fixture: StoreFixture, sql: string): Promise<void> {
  if (fixture.dialect === 'sqlite') {
    const db = new DatabaseSync(fixture.url.slice('sqlite:'.length));
    db.exec(sql);
    db.close();
    return;
  }
  const url = new URL(fixture.url);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  if (!url.username) url.username = userInfo().username;
  const client = new pg.Client({ connectionString: url.toString(), options: `-c search_path=${schema}` });
  await client.connect();
  await client.query(sql);
  await client.end();
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
    assert.deepEqual((await verifyAuditChain(fixture.store)).problem, null);
  });

  test('secret-looking detail keys are redacted even if a caller passes them', async () => {
    const log = new AuditLog(fixture.store);
    await log.record({ event: 'test.redaction', detail: { client_secret: 'x', password: 'y', refresh_token: 'z', kept: 'ok' } });
    const [row] = await fixture.store.listAuditRows({ event: 'test.redaction', limit: 1 });
    assert.deepEqual(row?.detail, { client_secret: '[redacted]', password: '[redacted]', refresh_token: '[redacted]', kept: 'ok' });
  });

  test('verify reports the first altered row, then the first missing one', async () => {
    const before = await verifyAuditChain(fixture.store);
    assert.equal(before.ok, true);
    assert.ok(before.rowsChecked >= 6);

    await tamper(fixture, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`);
    const altered = await verifyAuditChain(fixture.store);
    assert.deepEqual(altered.problem, { kind: 'altered', seq: 3, message: 'row 3 was altered' });
    assert.equal(altered.rowsChecked, 2);

    await tamper(fixture, `DELETE FROM audit_log WHERE seq = 2`);
    const missing = await verifyAuditChain(fixture.store);
    assert.deepEqual(missing.problem, { kind: 'missing', seq: 2, message: 'rows 2–2 are missing' });
  });
});
