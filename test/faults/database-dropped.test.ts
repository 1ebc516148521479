import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { PostgresFaultProxy } from '../../packages/server/test/helpers/postgres-fault-proxy.ts';
import { rowCounts } from '../../packages/server/test/helpers/row-counts.ts';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore, type StoreFixture } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';
import { PROCESS_TIMEOUT_MS } from '../helpers/processes.ts';

/**
 * Issue 14 item 4: the database fails in the middle of a request. On PostgreSQL the connection carrying the request's
 * write is reset before the statement reaches the database (a proxy between the server and PostgreSQL); on SQLite
 * another process holds the write lock past the busy timeout (SQLITE_BUSY). Either way the client gets 503 with
 * Retry-After (RFC 6749 JSON at the token endpoint, problem+json on the admin API), no table gains a row, and the same
 * request succeeds once the database is back.
 */

/** Makes the next write fail; `heal()` ends the fault. `statement` names the write on PostgreSQL. */
interface WriteFault {
  failWrites(statement: string): { heal(): void; fired: Promise<void> };
}

function sqliteLock(fixture: StoreFixture): WriteFault {
  return {
    failWrites() {
      const holder = new DatabaseSync(fixture.url.slice('sqlite:'.length));
      holder.exec('BEGIN IMMEDIATE');
      return {
        fired: Promise.resolve(),
        heal() {
          holder.exec('ROLLBACK');
          holder.close();
        },
      };
    },
  };
}

function postgresReset(proxy: PostgresFaultProxy): WriteFault {
  return {
    failWrites(statement) {
      const { fired } = proxy.resetOn(statement, { when: 'before' });
      return { fired, heal() {} };
    },
  };
}

async function assertUnavailable(response: Response, format: 'oauth' | 'problem'): Promise<void> {
  const body = await response.text();
  assert.equal(response.status, 503, body);
  assert.match(response.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After in seconds');
  if (format === 'oauth') {
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(JSON.parse(body).error, 'temporarily_unavailable');
  } else {
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(JSON.parse(body).status, 503);
  }
}

forEachStore('the database dropped mid-request', (fixture) => {
  let server: TestServer;
  let proxy: PostgresFaultProxy | undefined;
  let fault: WriteFault;
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    if (fixture.dialect === 'postgres') {
      proxy = await PostgresFaultProxy.start();
      server = await startTestServer({ url: proxy.urlFor(fixture.url) });
      fault = postgresReset(proxy);
    } else {
      // A short busy timeout: a held lock becomes SQLITE_BUSY in 100 ms rather than the default 5 s.
      server = await startTestServer(fixture, { sqliteBusyTimeoutMs: 100 });
      fault = sqliteLock(fixture);
    }
    agent = await registerAgentAndResource(server);
  });
  after(async () => {
    await server.close();
    await proxy?.close();
  });

  const issueToken = () =>
    server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });

  test('FAULT-01 token issuance: 503 temporarily_unavailable with Retry-After, no row written; the same request succeeds once the database is back', async () => {
    const before = await rowCounts(fixture);
    const { heal, fired } = fault.failWrites('INSERT INTO audit_log');
    await assertUnavailable(await issueToken(), 'oauth');
    await fired;
    heal();
    assert.deepEqual(await rowCounts(fixture), before, 'no table gained or lost a row');
    const retried = await issueToken();
    assert.equal(retried.status, 200, await retried.clone().text());
    const jti = JSON.parse(Buffer.from(((await retried.json()) as { access_token: string }).access_token.split('.')[1]!, 'base64url').toString()).jti;
    const audited = await fixture.store.listAuditRows({ event: 'token.issued', clientId: agent.clientId, limit: 1000 });
    assert.ok(audited.some((row) => row.detail['jti'] === jti), 'the token answered after recovery has its audit row');
  });

  test('FAULT-02 code redemption: 503, the code stays unconsumed; redeemed once after recovery, refused after that', async () => {
    await createUser(server, 'ada@example.com').catch(() => undefined);
    const app = await createApp(server);
    const options = { clientId: app.clientId, clientSecret: app.clientSecret, scope: 'openid calc', resource: MCP_RESOURCE };
    const { code, verifier } = await obtainCode(server, options);
    const before = await rowCounts(fixture);
    const { heal, fired } = fault.failWrites('UPDATE authorization_codes SET consumed_at');
    await assertUnavailable(await redeemCode(server, options, code, verifier), 'oauth');
    await fired;
    heal();
    assert.deepEqual(await rowCounts(fixture), before, 'no table gained or lost a row');
    const redeemed = await redeemCode(server, options, code, verifier);
    assert.equal(redeemed.status, 200, await redeemed.text());
    const replayed = await redeemCode(server, options, code, verifier);
    assert.equal(replayed.status, 400);
    assert.equal(((await replayed.json()) as { error: string }).error, 'invalid_grant');
  });

  test('FAULT-03 dynamic registration: 503 with Retry-After, no client row; registered after recovery', async () => {
    const register = () =>
      fetch(`${server.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Fault Host', redirect_uris: ['http://127.0.0.1:9999/callback'], token_endpoint_auth_method: 'none' }),
      });
    const before = await rowCounts(fixture);
    const { heal, fired } = fault.failWrites('INSERT INTO clients');
    await assertUnavailable(await register(), 'oauth');
    await fired;
    heal();
    assert.deepEqual(await rowCounts(fixture), before, 'no table gained or lost a row');
    const registered = await register();
    assert.equal(registered.status, 201, await registered.text());
  });

  test('FAULT-04 admin write: 503 problem+json with Retry-After, no agent and no audit row; created after recovery', async () => {
    const create = () => server.admin('POST', '/agents', { name: 'fault agent', scopes: ['calc'], audiences: [MCP_RESOURCE] });
    const before = await rowCounts(fixture);
    const { heal, fired } = fault.failWrites('INSERT INTO clients');
    await assertUnavailable(await create(), 'problem');
    await fired;
    heal();
    assert.deepEqual(await rowCounts(fixture), before, 'no table gained or lost a row');
    const created = await create();
    assert.equal(created.status, 201, await created.text());
  });

  test('FAULT-05 the database gone entirely: requests and /readyz answer 503; new connections serve again once it returns', async (t) => {
    if (!proxy) return t.skip('PostgreSQL only: SQLite has no connection to lose (its lock is FAULT-01..04)');
    proxy.cutAll();
    await assertUnavailable(await issueToken(), 'oauth');
    assert.equal((await fetch(`${server.issuer}/readyz`)).status, 503);
    proxy.restore();
    assert.equal((await issueToken()).status, 200, 'the first request after the return is served');
    // Readiness allows its check 2 s: on a loaded machine the first one may still miss; it turns ready by itself.
    const deadline = Date.now() + PROCESS_TIMEOUT_MS;
    while ((await fetch(`${server.issuer}/readyz`)).status !== 200) {
      assert.ok(Date.now() < deadline, '/readyz did not turn ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
