import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';

/**
 * Issue 14 item 4: the disk under a SQLite database fills up. The database lives on a small tmpfs mounted for the
 * test (root only: CI and these machines run as root; elsewhere the test is skipped, saying why). With the disk full,
 * writes fail with SQLITE_FULL and the server answers 503 with Retry-After; nothing is half-written (SQLite rolls the
 * transaction back), the file passes `PRAGMA integrity_check`, the audit chain verifies, and once space returns the
 * same requests succeed. PostgreSQL's own full disk (SQLSTATE 53100) takes the same path (store/sql/unavailable.ts).
 */

/** Mounts a tmpfs of `size` on a fresh directory; null when this process may not mount (not root, no tmpfs). */
function mountTmpfs(size: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

/** Writes a file until the file system refuses a single byte more. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [65_536, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

const mounted = process.getuid?.() === 0 ? mountTmpfs('16m') : null;

describe('a full disk under SQLite [sqlite]', { skip: mounted ? false : 'needs root to mount a small tmpfs for the database' }, () => {
  const dir = mounted!;
  const dbPath = join(dir ?? '', 'mandate.db');
  const filler = join(dir ?? '', 'filler');
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startTestServer({ url: `sqlite:${dbPath}` });
    agent = await registerAgentAndResource(server);
  });
  after(async () => {
    await server?.close();
    // Lazily: a handle a failed assertion left open must not keep the mount behind.
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  const issueToken = () =>
    server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
  const register = () =>
    fetch(`${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Full Disk Host', redirect_uris: ['http://127.0.0.1:9999/callback'], token_endpoint_auth_method: 'none' }),
    });

  test('FAULT-10 disk full: token issuance and registration answer 503 with Retry-After; integrity intact; both succeed once space returns', async (t) => {
    // The write-ahead log is emptied first: SQLite reuses a WAL's space, so only a write that must grow a file meets
    // the full disk. Every write below must.
    const db = new DatabaseSync(dbPath);
    t.after(() => db.close());
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const clientsBefore = (db.prepare('SELECT count(*) AS n FROM clients').get() as { n: number }).n;
    const auditBefore = (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    fillDisk(filler);

    const refused = await issueToken();
    assert.equal(refused.status, 503, await refused.clone().text());
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(((await refused.json()) as { error: string }).error, 'temporarily_unavailable');
    const refusedRegistration = await register();
    assert.equal(refusedRegistration.status, 503, await refusedRegistration.text());
    assert.equal((db.prepare('SELECT count(*) AS n FROM clients').get() as { n: number }).n, clientsBefore, 'no client half-registered');
    assert.equal((db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n, auditBefore, 'no audit row for what was refused');

    rmSync(filler);
    assert.equal((await issueToken()).status, 200);
    assert.equal((await register()).status, 201);
    assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map((row) => row['integrity_check']), ['ok']);
    const report = await server.context.audit.verify();
    assert.equal(report.ok, true, JSON.stringify(report));
  });
});
