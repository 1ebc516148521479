import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { hashSecret } from '../../packages/server/src/tokens/secret.ts';
import { openProbe } from '../../packages/server/test/fuzz/invariants.ts';
import { formBody, freePort, httpCalls, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';
import { mandateEnv, PROCESS_TIMEOUT_MS, runCliJson, startServerProcess } from '../helpers/processes.ts';

/**
 * Issue 14 item 4, "no token without its audit row", for the tokens that have a record: `mandate serve` killed with
 * SIGKILL while clients redeem codes for refresh tokens and rotate them, one chain of refreshes per code, at a
 * random point of the load, several rounds. A refresh token's record is written in the transaction of its
 * `token.issued` row (audit/audit-log.ts), which names it by its hash; so after the restarts every refresh token in
 * the database has that row (whether or not its client was answered), every token a client received has its row,
 * and no other relation is broken (the fuzzing invariants, packages/server/test/fuzz/invariants.ts).
 * Before, the record was written first and its row by the next audit batch: a kill between them left it without.
 */

const RESOURCE = 'https://kill-refresh.example.com/mcp';
const ROUNDS = 3;
const CHAINS_PER_ROUND = 8;

const jtiOf = (accessToken: string): string => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).jti;

forEachStore('mandate serve killed with SIGKILL while refresh tokens are issued and rotated', (fixture) => {
  test('FAULT-17 SIGKILL during code redemption and refresh rotation, 3 rounds: every refresh token in the database and every token received has its token.issued row', async (t) => {
    const configDir = mkdtempSync(join(tmpdir(), 'mandate-sigkill-refresh-'));
    t.after(() => rmSync(configDir, { recursive: true, force: true }));
    const configFile = join(configDir, 'mandate.json');
    // Codes live 10 minutes here: the server's clock is real, and a loaded machine is slow to collect a round's codes.
    writeFileSync(configFile, JSON.stringify({ authorization: { codeTtlSeconds: 600 } }));
    const env = { ...mandateEnv(fixture.url), MANDATE_CONFIG_FILE: configFile, MANDATE_RATE_LIMIT_CLIENT: '0', MANDATE_RATE_LIMIT_IP: '0' };
    await runCliJson(['resource', 'create', '--uri', RESOURCE, '--scope', 'calc'], env);
    const { token: adminToken } = await runCliJson<{ token: string }>(['admin-token', 'create', '--name', 'sigkill-refresh'], env);

    /** Every access token and refresh token a client received (by jti, by hash). */
    const receivedJtis = new Set<string>();
    const receivedRefresh = new Set<string>();
    let app: { clientId: string } | undefined;
    const flow = () => ({ clientId: app!.clientId, scope: 'openid offline_access calc', resource: RESOURCE });
    let rotations = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServerProcess(await freePort(), env);
      const exited = once(server.child, 'exit');
      const api = { issuer: server.issuer, ...httpCalls(server.issuer, adminToken) } as unknown as TestServer;
      if (!app) {
        await createUser(api, 'ada@example.com');
        app = await createApp(api, { public: true });
      }
      const browser = new Browser();
      const codes: { code: string; verifier: string }[] = [];
      for (let i = 0; i < CHAINS_PER_ROUND; i++) codes.push(await obtainCode(api, flow(), browser));

      // Killed after a random number of answers, once a code was redeemed and a refresh token rotated.
      const killAfter = randomInt(CHAINS_PER_ROUND, 6 * CHAINS_PER_ROUND);
      let answered = 0;
      let rotated = false;
      let killed = false;
      const answer = () => {
        answered++;
        if (!killed && rotated && answered >= killAfter) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      };
      const received = (body: { access_token: string; refresh_token?: string }) => {
        receivedJtis.add(jtiOf(body.access_token));
        if (body.refresh_token) receivedRefresh.add(hashSecret(body.refresh_token));
        return body.refresh_token;
      };
      /** One code redeemed, then its refresh token rotated again and again until the process dies. */
      const chain = async (code: { code: string; verifier: string }) => {
        try {
          const redeemed = await redeemCode(api, flow(), code.code, code.verifier);
          if (redeemed.status !== 200) return void (await redeemed.body?.cancel());
          let refreshToken = received((await redeemed.json()) as { access_token: string; refresh_token?: string });
          answer();
          while (refreshToken) {
            const response = await fetch(`${server.issuer}/token`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: formBody({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app!.clientId }),
            });
            if (response.status !== 200) return void (await response.body?.cancel());
            refreshToken = received((await response.json()) as { access_token: string; refresh_token?: string });
            rotations++;
            rotated = true;
            answer();
          }
        } catch {
          // The connection died with the process: no answer, nothing received.
        }
      };
      await Promise.all(codes.map(chain));
      await exited;
    }

    const server = await startServerProcess(await freePort(), env);
    try {
      assert.ok(receivedRefresh.size > CHAINS_PER_ROUND && rotations > 0, `the load redeemed codes and rotated refresh tokens (${rotations} rotations)`);
      const rows = await fixture.store.listAuditRows({ event: 'token.issued', limit: 1_000_000 });
      const auditedJtis = new Set(rows.map((row) => row.detail['jti']));
      const auditedRefresh = new Set(rows.map((row) => row.detail['refresh_hash']).filter((hash) => hash !== undefined));
      assert.deepEqual([...receivedJtis].filter((jti) => !auditedJtis.has(jti)), [], `${receivedJtis.size} access tokens received, each with its row`);
      assert.deepEqual([...receivedRefresh].filter((hash) => !auditedRefresh.has(hash)), [], `${receivedRefresh.size} refresh tokens received, each with its row`);
      const probe = await openProbe(fixture.url);
      try {
        // Every refresh token in the database, answered or not, has the row naming it; nothing else is broken.
        assert.deepEqual(await probe.brokenRelations(), []);
      } finally {
        await probe.close();
      }
      const report = await runCliJson<{ ok: boolean }>(['audit', 'verify'], env);
      assert.equal(report.ok, true, JSON.stringify(report));
    } finally {
      await server.stop();
    }
  });

  test('FAULT-18 SIGKILL while the audit batch waits for the database: the refresh tokens it carries are not written, the code stays spent, the old refresh token stays retired', async (t) => {
    // Deterministic where FAULT-17 is random: the test holds the row lock on the anchor that an audit batch updates
    // last, so the batch waits inside its transaction with the token records already inserted, and the process is
    // killed once the audit queue (metrics) holds both requests' rows. SQLite has one write lock for everything: a
    // held lock would stop the token writes before the batch too, so there only FAULT-17 applies.
    if (fixture.dialect !== 'postgres') return t.skip('SQLite cannot hold the audit batch alone (one write lock); FAULT-17 covers it');
    const metricsPort = await freePort();
    const env = { ...mandateEnv(fixture.url), MANDATE_METRICS_PORT: String(metricsPort), MANDATE_RATE_LIMIT_CLIENT: '0', MANDATE_RATE_LIMIT_IP: '0' };
    await runCliJson(['resource', 'create', '--uri', RESOURCE, '--scope', 'calc'], env);
    const { token: adminToken } = await runCliJson<{ token: string }>(['admin-token', 'create', '--name', 'held-batch'], env);
    const server = await startServerProcess(await freePort(), env);
    const exited = once(server.child, 'exit');
    // Whatever fails, the process ends and the lock is released (other suites' audit batches wait on the lock too).
    t.after(() => server.child.kill('SIGKILL'));
    const api = { issuer: server.issuer, ...httpCalls(server.issuer, adminToken) } as unknown as TestServer;
    await createUser(api, 'held@example.com');
    const app = await createApp(api, { public: true });
    const flow = { clientId: app.clientId, scope: 'openid offline_access calc', resource: RESOURCE, email: 'held@example.com' };
    const browser = new Browser();
    const first = await obtainCode(api, flow, browser);
    const second = await obtainCode(api, flow, browser);
    const redeemed = (await (await redeemCode(api, flow, first.code, first.verifier)).json()) as { refresh_token: string };
    assert.match(redeemed.refresh_token, /^mrt_/);

    const url = new URL(fixture.url);
    const schema = url.searchParams.get('schema')!;
    url.searchParams.delete('schema');
    if (!url.username) url.username = process.env['PGUSER'] ?? userInfo().username;
    const holder = new pg.Client({ connectionString: url.toString(), options: `-c search_path=${schema}` });
    await holder.connect();
    t.after(() => holder.end());
    await holder.query('BEGIN');
    await holder.query('SELECT seq FROM audit_anchor WHERE id = 1 FOR UPDATE');

    // A code redemption and a rotation, each issuing a refresh token; neither is answered before the kill.
    const answers = [
      redeemCode(api, flow, second.code, second.verifier),
      fetch(`${server.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody({ grant_type: 'refresh_token', refresh_token: redeemed.refresh_token, client_id: app.clientId }) }),
    ].map((answer) => answer.then((response) => response.status, () => 'no answer'));
    const depth = async () => Number(/^mandate_audit_queue_depth (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())?.[1] ?? 0);
    const deadline = Date.now() + PROCESS_TIMEOUT_MS;
    while ((await depth()) < 2) assert.ok(Date.now() < deadline, 'both rows reach the audit queue');
    server.child.kill('SIGKILL');
    await exited;
    await holder.query('ROLLBACK');
    assert.deepEqual(await Promise.all(answers), ['no answer', 'no answer']);

    const probe = await openProbe(fixture.url);
    try {
      assert.deepEqual(await probe.brokenRelations(), [], 'no refresh token without its row');
      const refresh = (await holder.query('SELECT status FROM refresh_tokens ORDER BY created_at')).rows.map((row) => row.status);
      assert.deepEqual(refresh, ['rotated'], 'the first refresh token is retired; neither new one was written');
      const codes = (await holder.query('SELECT count(*)::int AS n FROM authorization_codes WHERE consumed_at IS NOT NULL')).rows[0].n;
      assert.equal(codes, 2, 'both codes are spent: a retry is refused, nothing is issued twice');
    } finally {
      await probe.close();
    }
    const restarted = await startServerProcess(await freePort(), env);
    try {
      const report = await runCliJson<{ ok: boolean }>(['audit', 'verify'], env);
      assert.equal(report.ok, true, JSON.stringify(report));
      const retry = await redeemCode({ issuer: restarted.issuer, ...httpCalls(restarted.issuer, adminToken) } as unknown as TestServer, flow, second.code, second.verifier);
      assert.equal(retry.status, 400, 'the spent code is refused after the restart');
    } finally {
      await restarted.stop();
    }
  });
}, { databasePer: 'test' });
