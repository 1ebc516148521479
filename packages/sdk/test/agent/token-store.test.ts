import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { FileTokenStore } from '../../src/agent/file-token-store.ts';
import { MemoryTokenStore, tokenSetKey } from '../../src/agent/token-store.ts';
import type { DelegatedTokenSet } from '../../src/agent/token-store.ts';

const set = (n: number): DelegatedTokenSet => ({
  key: `k${n}`,
  issuer: 'https://as.example.com',
  clientId: 'app_1',
  actor: 'agt_1',
  subject: `usr_${n}`,
  accessToken: `at_${n}`,
  tokenType: 'Bearer',
  expiresAt: 2_000_000_000,
  refreshToken: `mrt_${n}`,
  scope: ['files:read'],
  resource: ['https://mcp.example.com/mcp'],
  idTokenClaims: { sub: `usr_${n}`, email: 'a@example.com' },
  updatedAt: 1_900_000_000,
});

describe('token stores', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-token-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tokenSetKey: one key per (issuer, application, agent, user, resources); resource order does not matter', () => {
    const base = { issuer: 'https://as.example.com', clientId: 'app_1', actor: 'agt_1', subject: 'usr_1', resource: ['https://a.example/mcp', 'https://b.example/api'] };
    assert.equal(tokenSetKey(base), tokenSetKey({ ...base, resource: [...base.resource].reverse() }));
    const variants = [{ issuer: 'https://as2.example.com' }, { clientId: 'app_2' }, { actor: 'agt_2' }, { actor: undefined }, { subject: 'usr_2' }, { resource: ['https://a.example/mcp'] }];
    const keys = new Set([tokenSetKey(base), ...variants.map((v) => tokenSetKey({ ...base, ...v }))]);
    assert.equal(keys.size, variants.length + 1);
  });

  test('MemoryTokenStore: get, set, delete; values are copies', async () => {
    const store = new MemoryTokenStore();
    const value = set(1);
    await store.set('k1', value);
    value.accessToken = 'changed';
    const read = await store.get('k1');
    assert.equal(read?.accessToken, 'at_1');
    read!.scope.push('x');
    assert.deepEqual((await store.get('k1'))?.scope, ['files:read']);
    await store.delete('k1');
    assert.equal(await store.get('k1'), undefined);
  });

  test('FileTokenStore: a missing file is empty; writes create the file 0600 in a 0700 directory; values survive a new instance', async () => {
    const path = join(dir, 'nested', 'tokens.json');
    const store = new FileTokenStore(path);
    assert.equal(await store.get('k1'), undefined);
    assert.equal(existsSync(path), false, 'reading creates nothing');
    await store.set('k1', set(1));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'nested')).mode & 0o777, 0o700);
    assert.deepEqual(await new FileTokenStore(path).get('k1'), set(1));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).version, 1);
    await store.delete('k1');
    assert.equal(await new FileTokenStore(path).get('k1'), undefined);
  });

  test('FileTokenStore: writes are atomic renames (no temporary file left) and concurrent sets on one store lose nothing', async () => {
    const path = join(dir, 'concurrent.json');
    const store = new FileTokenStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, set(i))));
    for (let i = 0; i < 20; i++) assert.equal((await store.get(`k${i}`))?.accessToken, `at_${i}`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('concurrent')), ['concurrent.json']);
  });

  test('FileTokenStore refuses a file others can read or write, a symbolic link, and a directory: ERR_TOKEN_STORE_INSECURE', async () => {
    const path = join(dir, 'loose.json');
    writeFileSync(path, JSON.stringify({ version: 1, tokens: {} }), { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o602]) {
      chmodSync(path, mode);
      await assert.rejects(new FileTokenStore(path).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', path }, mode.toString(8));
      await assert.rejects(new FileTokenStore(path).set('k', set(1)), { code: 'ERR_TOKEN_STORE_INSECURE' }, 'never overwritten either');
    }
    chmodSync(path, 0o600);
    const link = join(dir, 'link.json');
    symlinkSync(path, link);
    await assert.rejects(new FileTokenStore(link).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', message: /symbolic link/ });
    mkdirSync(join(dir, 'a-directory.json'));
    await assert.rejects(new FileTokenStore(join(dir, 'a-directory.json')).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', message: /regular file/ });
  });

  test('FileTokenStore: a file that is not its JSON document → ERR_TOKEN_STORE_MALFORMED; a bad value or path → TypeError', async () => {
    const path = join(dir, 'bad.json');
    for (const text of ['not json', '[]', '{"version":2,"tokens":{}}', '{"version":1,"tokens":{"k":{"accessToken":1}}}']) {
      writeFileSync(path, text, { mode: 0o600 });
      await assert.rejects(new FileTokenStore(path).get('k'), { code: 'ERR_TOKEN_STORE_MALFORMED' }, text);
    }
    assert.throws(() => new FileTokenStore(''), TypeError);
    assert.throws(() => new FileTokenStore(join(dir, 'x.json')).set('k', { accessToken: 'x' } as unknown as DelegatedTokenSet), TypeError);
  });

  test('SR-21 two store objects on one file in one process lose no update (40 concurrent sets)', async () => {
    const path = join(dir, 'two-objects.json');
    const a = new FileTokenStore(path);
    const b = new FileTokenStore(path);
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).set(`k${i}`, set(i))));
    for (let i = 0; i < 40; i++) assert.equal((await a.get(`k${i}`))?.accessToken, `at_${i}`, `k${i} lost`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('two-objects')), ['two-objects.json'], 'no lock or temporary file left');
  });

  test('SR-21 writers in several processes and in this one lose no update', async () => {
    const path = join(dir, 'processes.json');
    const moduleUrl = new URL('../../src/agent/file-token-store.ts', import.meta.url).href;
    const script = (n: number) => `
      import { FileTokenStore } from ${JSON.stringify(moduleUrl)};
      const store = new FileTokenStore(${JSON.stringify(path)});
      const template = ${JSON.stringify(set(0))};
      await Promise.all(Array.from({ length: 15 }, (_, i) => store.set('p${n}-' + i, { ...template, accessToken: 'at_p${n}_' + i })));
    `;
    const children = Array.from({ length: 4 }, (_, n) => spawn(process.execPath, ['--input-type=module', '-e', script(n)], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const errors = children.map((child) => {
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      return once(child, 'exit').then(([code]) => assert.equal(code, 0, stderr));
    });
    const local = new FileTokenStore(path);
    await Promise.all([...errors, ...Array.from({ length: 15 }, (_, i) => local.set(`here-${i}`, set(i)))]);
    for (let n = 0; n < 4; n++) for (let i = 0; i < 15; i++) assert.equal((await local.get(`p${n}-${i}`))?.accessToken, `at_p${n}_${i}`);
    for (let i = 0; i < 15; i++) assert.equal((await local.get(`here-${i}`))?.accessToken, `at_${i}`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('processes')), ['processes.json']);
  });

  test('SR-21 a stale refresh token never overwrites a rotated one (50 races, either order)', async () => {
    const path = join(dir, 'rotation.json');
    const refresher = new FileTokenStore(path);
    const stale = new FileTokenStore(path);
    await refresher.set('k', set(0));
    for (let round = 1; round <= 50; round++) {
      const before = (await stale.get('k'))!;
      const rotated = { ...before, refreshToken: `mrt_r${round}`, accessToken: `at_r${round}`, updatedAt: before.updatedAt + (round % 2) };
      // Same updatedAt on even rounds: only the retired refresh token tells the stale write apart.
      const writes = [refresher.set('k', rotated), stale.set('k', before)];
      if (round % 3 === 0) writes.reverse();
      await Promise.all(writes);
      assert.equal((await refresher.get('k'))?.refreshToken, `mrt_r${round}`, `round ${round}`);
    }
    // A deleted (revoked) set is not brought back by a stale writer either.
    const last = (await stale.get('k'))!;
    await refresher.delete('k');
    await stale.set('k', last);
    assert.equal(await refresher.get('k'), undefined);
  });

  test('SR-21 a parent directory that is a symbolic link or that others may write is refused', async () => {
    const real = join(dir, 'real-parent');
    mkdirSync(real, { mode: 0o700 });
    const linked = join(dir, 'linked-parent');
    symlinkSync(real, linked);
    await assert.rejects(new FileTokenStore(join(linked, 'tokens.json')).set('k', set(1)), { code: 'ERR_TOKEN_STORE_INSECURE', message: /symbolic link/ });
    await new FileTokenStore(join(real, 'tokens.json')).set('k', set(1));
    await assert.rejects(new FileTokenStore(join(linked, 'tokens.json')).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', message: /symbolic link/ });
    for (const mode of [0o777, 0o770, 0o1777, 0o702]) {
      chmodSync(real, mode);
      await assert.rejects(new FileTokenStore(join(real, 'tokens.json')).get('k'), { code: 'ERR_TOKEN_STORE_INSECURE', message: /others may write/ }, mode.toString(8));
      await assert.rejects(new FileTokenStore(join(real, 'tokens.json')).set('k', set(2)), { code: 'ERR_TOKEN_STORE_INSECURE' }, mode.toString(8));
    }
    chmodSync(real, 0o700);
    assert.equal((await new FileTokenStore(join(real, 'tokens.json')).get('k'))?.accessToken, 'at_1');
  });

  test('SR-21 a lock of a dead process is taken over, a live one is waited for (ERR_TOKEN_STORE_LOCKED), an old one is taken over', async () => {
    const path = join(dir, 'locked.json');
    const lockPath = `${path}.lock`;
    const child = spawn(process.execPath, ['-e', '']);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    const lock = (pid: number, createdAtMs: number) => writeFileSync(lockPath, JSON.stringify({ host: hostname(), pid, nonce: 'theirs', createdAtMs }), { mode: 0o600 });

    lock(child.pid!, Date.now());
    await new FileTokenStore(path).set('k', set(1));
    assert.equal(existsSync(lockPath), false);

    // A live holder (this very process, under another nonce): a clock that moves 1 s per reading runs the timeout out.
    const base = Date.now();
    lock(process.pid, base);
    let ticks = 0;
    const ticking = () => base + 1000 * ticks++;
    await assert.rejects(new FileTokenStore(path, { now: ticking, lockTimeoutMs: 5000, staleLockMs: 60_000 }).set('k', set(2)), {
      code: 'ERR_TOKEN_STORE_LOCKED',
      lockPath,
    });
    assert.equal(existsSync(lockPath), true, 'a live lock is left alone');
    await new FileTokenStore(path, { now: () => base + 61_000, staleLockMs: 60_000 }).set('k', set(3));
    assert.equal((await new FileTokenStore(path).get('k'))?.accessToken, 'at_3');
    assert.equal(existsSync(lockPath), false);
    assert.throws(() => new FileTokenStore(path, { lockTimeoutMs: 0 }), TypeError);
  });
});
