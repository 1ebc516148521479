import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openProbe } from '../../packages/server/test/fuzz/invariants.ts';
import { PostgresFaultProxy } from '../../packages/server/test/helpers/postgres-fault-proxy.ts';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { createTestDatabase, type TestDatabase } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';
import { openStore } from '../../packages/server/src/store/open-store.ts';
import type { Store } from '../../packages/server/src/store/store.ts';
import { runCliJson, mandateEnv } from '../helpers/processes.ts';

/**
 * Issue 14 item 4: a PostgreSQL failover resets the server's connection in the middle of a transaction. A proxy
 * between the server and PostgreSQL resets the connection either just before the transaction's COMMIT reaches the
 * database (it rolls back: the retry applies it, once) or just after the database committed, before the server hears
 * so (the outcome is lost: the retry is refused, because the work was done). Either way the client gets 503 with
 * Retry-After and nothing is applied twice. PostgreSQL only: SQLite has no connection to lose (its faults are in
 * database-dropped.test.ts and full-disk.test.ts).
 */
describe('PostgreSQL failover mid-transaction [postgres]', () => {
  let database: TestDatabase;
  let store: Store;
  let proxy: PostgresFaultProxy;
  let server: TestServer;
  let app: { clientId: string };
  let agent: { clientId: string; clientSecret: string };
  const flow = () => ({ clientId: app.clientId, scope: 'openid offline_access calc', resource: MCP_RESOURCE });

  before(async () => {
    database = await createTestDatabase('postgres');
    store = await openStore(database.url);
    await store.migrate();
    proxy = await PostgresFaultProxy.start();
    server = await startTestServer({ url: proxy.urlFor(database.url) });
    agent = await registerAgentAndResource(server);
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true });
  });
  after(async () => {
    await server.close();
    await proxy.close();
    await store.close();
    await database.drop();
  });

  async function assertUnavailable(response: Response): Promise<void> {
    const body = await response.text();
    assert.equal(response.status, 503, body);
    assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(JSON.parse(body).error, 'temporarily_unavailable');
  }

  test('FAULT-06 code redemption reset before COMMIT: 503, rolled back; the retry redeems it once', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const reset = proxy.resetOn('COMMIT', { when: 'before', after: 'UPDATE authorization_codes SET consumed_at' });
    await assertUnavailable(await redeemCode(server, flow(), code, verifier));
    await reset.fired;
    const retried = await redeemCode(server, flow(), code, verifier);
    assert.equal(retried.status, 200, await retried.clone().text());
    const again = await redeemCode(server, flow(), code, verifier);
    assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
  });

  test('FAULT-07 code redemption reset after COMMIT: 503, the outcome lost; the retry is refused (invalid_grant), never a second token set', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const reset = proxy.resetOn('COMMIT', { when: 'after-reply', after: 'UPDATE authorization_codes SET consumed_at' });
    await assertUnavailable(await redeemCode(server, flow(), code, verifier));
    await reset.fired;
    const retried = await redeemCode(server, flow(), code, verifier);
    assert.equal(retried.status, 400);
    assert.equal(((await retried.json()) as { error: string }).error, 'invalid_grant');
  });

  test('FAULT-08 refresh rotation reset before and after its retiring statement, and before the COMMIT of the batch writing its successor: not applied, the retry rotates it; applied, the retry is a reuse and refused; the successor never exists without its audit row', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const first = (await (await redeemCode(server, flow(), code, verifier)).json()) as { refresh_token: string };
    const refresh = (token: string) => server.postForm('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId });
    // The old token is retired by one statement (its own transaction); the successor is written with its audit row.
    const retire = "UPDATE refresh_tokens SET status = 'rotated'";

    let reset = proxy.resetOn(retire, { when: 'before' });
    await assertUnavailable(await refresh(first.refresh_token));
    await reset.fired;
    const rotated = await refresh(first.refresh_token);
    assert.equal(rotated.status, 200, 'never applied: the same refresh token still works');
    const second = (await rotated.json()) as { refresh_token: string };

    reset = proxy.resetOn(retire, { when: 'after-reply' });
    await assertUnavailable(await refresh(second.refresh_token));
    await reset.fired;
    const reused = await refresh(second.refresh_token);
    assert.equal(reused.status, 400, 'applied: the retry is a reuse of a rotated token');
    assert.equal(((await reused.json()) as { error: string }).error, 'invalid_grant');

    // A third family: its rotation's audit batch (successor and row together) is cut before COMMIT.
    const again = await obtainCode(server, flow());
    const third = (await (await redeemCode(server, flow(), again.code, again.verifier)).json()) as { refresh_token: string };
    reset = proxy.resetOn('COMMIT', { when: 'before', after: 'INSERT INTO refresh_tokens' });
    await assertUnavailable(await refresh(third.refresh_token));
    await reset.fired;
    const probe = await openProbe(database.url);
    try {
      assert.deepEqual(await probe.brokenRelations(), [], 'the successor was rolled back with its row');
    } finally {
      await probe.close();
    }
    assert.equal((await refresh(third.refresh_token)).status, 400, 'the old token was retired: the retry is a reuse');
  });

  test('FAULT-09 audit batch reset after COMMIT: the client gets 503 and no token, the retry gets one; the chain still extends and verifies', async () => {
    const issue = () =>
      server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    // A batch after the server's first is one statement, its own transaction (audit-log.ts): its answer is lost after
    // it committed, so the server's head is stale and the retry's batch must find the one it wrote.
    const reset = proxy.resetOn('INSERT INTO audit_log', { when: 'after-reply' });
    await assertUnavailable(await issue());
    await reset.fired;
    assert.equal((await issue()).status, 200);
    const env = { ...mandateEnv(database.url), MANDATE_KEK: server.config.keys.kek! };
    const report = await runCliJson<{ ok: boolean }>(['audit', 'verify'], env);
    assert.equal(report.ok, true, JSON.stringify(report));
  });

  test('FAULT-16 the server\'s backend terminated by PostgreSQL (pg_terminate_backend, SQLSTATE 57P01) mid-transaction: 503, rolled back; the retry redeems the code once', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const reset = proxy.resetOn('UPDATE authorization_codes SET consumed_at', { when: 'terminate' });
    await assertUnavailable(await redeemCode(server, flow(), code, verifier));
    await reset.fired;
    const retried = await redeemCode(server, flow(), code, verifier);
    assert.equal(retried.status, 200, await retried.clone().text());
    assert.equal(((await (await redeemCode(server, flow(), code, verifier)).json()) as { error: string }).error, 'invalid_grant');
  });
});
