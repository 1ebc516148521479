import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deriveAuditKey } from '../../src/audit/audit-chain.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import type { AuditChainReport } from '../../src/audit/verify-audit-chain.ts';
import { startServer } from '../../src/server.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { tamper } from '../helpers/tamper.ts';

/**
 * Issue 13 item 4: audit rows past the retention horizon are deleted, and the chain stays verifiable from a keyed
 * checkpoint; a broken segment is never deleted; tampering after a prune is still found.
 */
forEachStore(
  'audit retention',
  (fixture) => {
    const servers: { close(): Promise<void> }[] = [];
    afterEach(async () => {
      for (const server of servers.splice(0)) await server.close();
    });
    const start = async () => {
      const server = await startTestServer(fixture);
      servers.push(server);
      return server;
    };
    /** Records `n` events and returns the seq and time of each, committed. */
    const record = async (server: TestServer, n: number) => {
      for (let i = 0; i < n; i++) void server.context.audit.record({ event: 'test.event', detail: { i } });
      await server.context.audit.flush();
      return server.store.listAuditRows({ event: 'test.event', limit: 1000 });
    };
    const verify = async (server: TestServer) => (await (await server.admin('GET', '/audit/verify')).json()) as AuditChainReport;

    test('OPS-retention rows before the horizon go; the chain verifies from the checkpoint, and appends go on', async () => {
      const server = await start();
      const rows = await record(server, 6);
      const cut = rows[3]!;
      const result = await server.context.audit.prune(cut.tsMs + 1);
      assert.ok(result && result.throughSeq >= cut.seq && result.deleted >= 4);
      const left = await server.store.listAuditRows({ limit: 1000 });
      assert.equal(left[0]!.seq, result.throughSeq + 1, 'every row up to the checkpoint is gone, none after it');
      const pruned = left.find((row) => row.event === 'audit.pruned');
      assert.deepEqual(pruned?.detail, { through_seq: result.throughSeq, before_ms: cut.tsMs + 1, rows: result.deleted });
      await record(server, 2);
      const report = await verify(server);
      assert.equal(report.ok, true, report.problem?.message);
      assert.equal(report.prunedThrough, result.throughSeq);
      // A horizon before the checkpoint deletes nothing more.
      assert.equal(await server.context.audit.prune(rows[0]!.tsMs), null);
    });

    test('OPS-retention tampering after a prune is still found: a deleted row, a forged or removed checkpoint', async () => {
      const server = await start();
      const rows = await record(server, 6);
      const result = (await server.context.audit.prune(rows[2]!.tsMs + 1))!;
      await record(server, 2);
      await tamper(fixture, 'DELETE FROM audit_log WHERE seq = ?', [result.throughSeq + 2]);
      assert.equal((await verify(server)).problem?.kind, 'missing');
    });

    test('OPS-retention a checkpoint moved by hand does not verify; without one, the pruned rows are missing', async () => {
      const server = await start();
      const rows = await record(server, 6);
      const result = (await server.context.audit.prune(rows[2]!.tsMs + 1))!;
      // Moving the checkpoint past more rows (hiding their deletion) needs the audit key.
      await tamper(fixture, 'UPDATE audit_checkpoint SET seq = ? WHERE id = 1', [result.throughSeq + 1]);
      assert.deepEqual((await verify(server)).problem?.kind, 'anchor');
      await tamper(fixture, 'DELETE FROM audit_checkpoint');
      const report = await verify(server);
      assert.equal(report.problem?.kind, 'missing');
      assert.equal(report.problem?.seq, 1);
    });

    test('OPS-retention a broken chain is evidence: the rows to delete are verified first, and kept when they do not', async () => {
      const server = await start();
      const rows = await record(server, 6);
      await tamper(fixture, 'UPDATE audit_log SET subject = ? WHERE seq = ?', ['someone else', rows[1]!.seq]);
      await assert.rejects(server.context.audit.prune(rows[4]!.tsMs + 1), { name: 'AuditAnchorError', message: /not deleting audit rows up to \d+: row \d+ was altered/ });
      assert.equal((await server.store.listAuditRows({ limit: 1 }))[0]!.seq, 1, 'nothing deleted');
    });

    test('OPS-retention mandate audit prune --older-than deletes through the CLI, and audit verify says where the chain resumes', async () => {
      const kek = randomBytes(32).toString('base64url');
      const key = deriveAuditKey(Buffer.from(kek, 'base64url'));
      // Three rows written two days ago, then two now.
      const twoDaysAgo = new AuditLog(fixture.store, key, () => Date.now() - 2 * 86_400_000);
      for (let i = 0; i < 3; i++) void twoDaysAgo.record({ event: 'test.old', detail: { i } });
      await twoDaysAgo.flush();
      const today = new AuditLog(fixture.store, key);
      for (let i = 0; i < 2; i++) void today.record({ event: 'test.new', detail: { i } });
      await today.flush();

      const cli = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));
      const env = { ...process.env, MANDATE_KEK: kek, MANDATE_LOG_LEVEL: 'silent' };
      const mandate = (...args: string[]) => spawnSync(process.execPath, [cli, 'audit', ...args, '--db', fixture.url], { encoding: 'utf8', env });
      const refused = mandate('prune', '--older-than', 'soon');
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /--older-than takes a number of days/);
      assert.equal(mandate('prune', '--older-than', '3').stdout, 'no audit row is that old\n');
      const pruned = mandate('prune', '--older-than', '1');
      assert.equal(pruned.status, 0, pruned.stderr);
      assert.equal(pruned.stdout, 'deleted rows up to 3 (3 rows); audit verify goes on from the checkpoint there\n');
      assert.deepEqual((await fixture.store.listAuditRows({ limit: 10 })).map((row) => row.event), ['test.new', 'test.new', 'audit.pruned']);
      const verified = mandate('verify');
      assert.equal(verified.status, 0, verified.stderr);
      assert.match(verified.stdout, /audit chain intact: 3 rows, .*; rows 1–3 were deleted by retention \(verified from its checkpoint\)\n$/);
    });

    test('OPS-retention retention.auditDays prunes at start: a server whose clock is two days on deletes what is older than a day', async () => {
      const first = await start();
      const rows = await record(first, 3);
      await first.close();
      servers.splice(0);
      const later = () => Math.floor(Date.now() / 1000) + 2 * 86_400;
      const server = await startServer({ port: 0, databaseUrl: fixture.url, logLevel: 'silent', keys: { kek: first.config.keys.kek }, retention: { auditDays: 1 } }, { now: later });
      servers.push(server);
      // The prune runs beside the start: its audit row is the signal that it has finished.
      for (let waited = 0; (await server.store.listAuditRows({ event: 'audit.pruned', limit: 1 })).length === 0; waited += 50) {
        assert.ok(waited < 120_000, 'no audit.pruned row');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const left = await server.store.listAuditRows({ limit: 1000 });
      assert.ok(left.every((row) => row.seq > rows.at(-1)!.seq - 1), 'the old rows are gone, except the anchored head');
      const report = await server.context.audit.verify();
      assert.equal(report.ok, true, report.problem?.message);
    });
  },
  { databasePer: 'test' },
);
