import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { formBody, freePort, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, createApp, createUser, obtainCode, redeemCode } from '../../packages/server/test/helpers/user-flow.ts';
import { mandateEnv, runCliJson, startServerProcess } from '../helpers/processes.ts';

/**
 * Issue 14 item 4: `mandate serve` killed with SIGKILL while clients redeem codes (each code twice at once, as a
 * replaying attacker would) and request client_credentials tokens, at a random point of the load, several rounds.
 * After each kill the server restarts into a consistent state: no code was redeemed twice, before or after the
 * restart; every token a client received has its `token.issued` audit row (the audit log's guarantee: an answer is
 * sent only after its row's batch committed, so a crash loses only rows of answers never sent); `mandate audit verify`
 * passes; SQLite's file passes its integrity check.
 */

const RESOURCE = 'https://kill.example.com/mcp';
const ROUNDS = 3;
const CODES_PER_ROUND = 10;

/** The helpers' view of a server in another process: its base URL, form posts and the admin API. */
function remote(issuer: string, adminToken: string): TestServer {
  return {
    issuer,
    postForm: (path: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
      fetch(`${issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: formBody(params) }),
    admin: (method: string, path: string, body?: unknown) =>
      fetch(`${issuer}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  } as unknown as TestServer;
}

const jtiOf = (accessToken: string): string => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).jti;

forEachStore('mandate serve killed with SIGKILL under load', (fixture) => {
  test('FAULT-11 SIGKILL during code redemption and token issuance, 3 rounds: no code redeemed twice, every token received audited, the chain verifies', async (t) => {
    // Codes live 10 minutes here (60 s by default): the server's clock is real, and a loaded machine is slow to
    // collect a round's codes.
    const configDir = mkdtempSync(join(tmpdir(), 'mandate-sigkill-'));
    t.after(() => rmSync(configDir, { recursive: true, force: true }));
    const configFile = join(configDir, 'mandate.json');
    writeFileSync(configFile, JSON.stringify({ authorization: { codeTtlSeconds: 600 } }));
    const env = { ...mandateEnv(fixture.url), MANDATE_CONFIG_FILE: configFile, MANDATE_RATE_LIMIT_CLIENT: '0', MANDATE_RATE_LIMIT_IP: '0' };
    await runCliJson(['resource', 'create', '--uri', RESOURCE, '--scope', 'calc'], env);
    const agent = await runCliJson<{ client_id: string; client_secret: string }>(['agent', 'create', '--name', 'load', '--scope', 'calc', '--audience', RESOURCE], env);
    const { token: adminToken } = await runCliJson<{ token: string }>(['admin-token', 'create', '--name', 'sigkill'], env);
    const agentAuthorization = `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`;

    /** Every access token a client received, and how many times each code was redeemed (answered 200). */
    const received = new Set<string>();
    const redemptions = new Map<string, number>();
    const codes: { code: string; verifier: string }[] = [];
    let app: { clientId: string; clientSecret?: string } | undefined;
    const flow = () => ({ clientId: app!.clientId, clientSecret: app!.clientSecret, scope: 'openid calc', resource: RESOURCE });

    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServerProcess(await freePort(), env);
      const exited = once(server.child, 'exit');
      const api = remote(server.issuer, adminToken);
      if (!app) {
        await createUser(api, 'ada@example.com');
        app = await createApp(api);
      }
      const browser = new Browser();
      const roundCodes: { code: string; verifier: string }[] = [];
      for (let i = 0; i < CODES_PER_ROUND; i++) roundCodes.push(await obtainCode(api, flow(), browser));
      codes.push(...roundCodes);

      // Killed after a random number of answered requests, a different point of the load each round, once both kinds
      // of request have been answered at least once (so that each round kills both under way).
      const killAfter = randomInt(3, 2 * CODES_PER_ROUND);
      let answered = 0;
      const seen = { code: false, token: false };
      let killed = false;
      const answer = (kind: 'code' | 'token') => {
        answered++;
        seen[kind] = true;
        if (!killed && answered >= killAfter && seen.code && seen.token) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      };
      const redeemWorker = async (code: { code: string; verifier: string }) => {
        try {
          const response = await redeemCode(api, flow(), code.code, code.verifier);
          if (response.status === 200) {
            received.add(jtiOf(((await response.json()) as { access_token: string }).access_token));
            redemptions.set(code.code, (redemptions.get(code.code) ?? 0) + 1);
          }
          answer('code');
        } catch {
          // The connection died with the process: no answer, nothing received.
        }
      };
      const tokenWorker = async () => {
        for (;;) {
          try {
            const response = await fetch(`${server.issuer}/token`, {
              method: 'POST',
              headers: { authorization: agentAuthorization, 'content-type': 'application/x-www-form-urlencoded' },
              body: formBody({ grant_type: 'client_credentials', scope: 'calc', resource: RESOURCE }),
            });
            if (response.status === 200) received.add(jtiOf(((await response.json()) as { access_token: string }).access_token));
            answer('token');
          } catch {
            return;
          }
        }
      };
      // Each code twice at once (a replay racing the client), with client_credentials traffic alongside.
      await Promise.all([...roundCodes.flatMap((code) => [redeemWorker(code), redeemWorker(code)]), tokenWorker(), tokenWorker(), tokenWorker()]);
      await exited;
    }

    const server = await startServerProcess(await freePort(), env);
    try {
      const api = remote(server.issuer, adminToken);
      // After the restarts no code is redeemable a second time: one answered before a kill is refused now.
      for (const code of codes) {
        const response = await redeemCode(api, flow(), code.code, code.verifier);
        if (response.status === 200) {
          received.add(jtiOf(((await response.json()) as { access_token: string }).access_token));
          redemptions.set(code.code, (redemptions.get(code.code) ?? 0) + 1);
        } else {
          await response.body?.cancel();
        }
      }
      assert.ok(redemptions.size > 0 && received.size > redemptions.size, `the load redeemed codes (${redemptions.size}) and got client_credentials tokens (${received.size - redemptions.size})`);
      assert.deepEqual([...redemptions.values()].filter((count) => count > 1), [], 'no code redeemed twice');

      const rows = await fixture.store.listAuditRows({ event: 'token.issued', limit: 1_000_000 });
      const audited = new Set(rows.map((row) => row.detail['jti']));
      const unaudited = [...received].filter((jti) => !audited.has(jti));
      assert.deepEqual(unaudited, [], `${received.size} tokens received, each with its token.issued row`);
      const report = await runCliJson<{ ok: boolean }>(['audit', 'verify'], env);
      assert.equal(report.ok, true, JSON.stringify(report));
    } finally {
      await server.stop();
    }
    if (fixture.dialect === 'sqlite') {
      const db = new DatabaseSync(fixture.url.slice('sqlite:'.length), { readOnly: true });
      try {
        assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map((row) => row['integrity_check']), ['ok']);
      } finally {
        db.close();
      }
    }
  });
});
